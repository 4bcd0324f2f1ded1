"""The API matches its OpenAPI document: Schemathesis sends generated requests to a live server, on
SQLite and on PostgreSQL, and every answer must be no 5xx, of a documented status and content type,
and of the documented shape."""

from __future__ import annotations

import itertools
import json

import pytest
import schemathesis
import schemathesis.specs.openapi.schemas  # noqa: F401  (see below)
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.serving import make_server

from moderation.services import api_keys
from moderation.services.audit import COMMAND_LINE
from tests.servers import in_thread

# Schemathesis loads its OpenAPI support on first use; it is imported above, at collection, and not
# in the test beside the live server's threads: CPython 3.11 before 3.11.8 can fail to parse a module
# (pytest rewrites the plugin's modules) while another thread parses too ("AST constructor recursion
# depth mismatch", gh-106905).

pytestmark = pytest.mark.committing  # a live server: its requests commit on connections of their own

EXAMPLES = 25  # per operation, generation mode (valid and invalid requests) and backend
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "REQUEST_LOG": False}


@pytest.fixture
def live_api(app, db, clock):
    _, key = api_keys.create_key(db.session, "fuzz.example", ["articles:write", "comments:read"],
                                 actor=COMMAND_LINE, now=clock())
    db.session.commit()
    with in_thread(make_server("127.0.0.1", 0, app, threaded=True)) as server:
        yield f"http://127.0.0.1:{server.server_port}", key


def test_the_document_is_openapi_3_1_and_lists_every_api_operation(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    operations = {(path, method) for path, methods in document["paths"].items() for method in methods}
    assert operations == {
        ("/api/v1/articles/{key}", "put"), ("/api/v1/articles/{key}", "get"),
        ("/api/v1/articles/{key}/comment-mode", "put"), ("/api/v1/articles/{key}/comments", "get"),
        ("/api/v1/counts", "get"), ("/api/v1/most-commented", "get"),
    }
    assert document["paths"]["/api/v1/counts"]["get"].get("security") is None  # public
    assert document["paths"]["/api/v1/articles/{key}"]["put"]["security"] == [{"apiKey": []}]


def test_the_document_promises_only_the_apis_own_errors_under_stable_names(client):
    """No pydantic 422 list the API never sends; schemas named as their models, no hash."""
    document = client.get("/api/v1/openapi.json").json
    assert "ValidationError" not in json.dumps(document)
    assert {"ArticleIn", "ArticleOut", "CommentsOut", "Error", "ErrorDetail"} <= set(document["components"]["schemas"])
    for path in ("/api/v1/counts", "/api/v1/articles/{key}/comments"):
        assert "422" not in document["paths"][path]["get"]["responses"]


def test_the_document_lists_every_error_code_and_every_fields_problem(client):
    """A generated client switches on the codes: the document names each the API can answer with."""
    from moderation.services.newsroom import ArticleProblem
    from moderation.web.api_errors import MESSAGES

    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    codes = next(schema["enum"] for name, schema in schemas.items() if name.startswith("ErrorCode"))
    problems = next(schema["enum"] for name, schema in schemas.items() if name.startswith("ArticleProblem"))
    assert set(codes) == set(MESSAGES) and {"bad_cursor", "article_not_found", "too_many_keys"} <= set(codes)
    assert set(problems) == {problem.value for problem in ArticleProblem}


def test_the_document_names_its_server_and_the_headers_answers_carry(client):
    document = client.get("/api/v1/openapi.json", base_url="https://comments.example.com").json
    assert document["servers"] == [{"url": "https://comments.example.com"}]
    paths = document["paths"]
    assert set(paths["/api/v1/articles/{key}"]["put"]["responses"]["201"]["headers"]) == {"Location"}
    assert set(paths["/api/v1/articles/{key}"]["get"]["responses"]["401"]["headers"]) == {"WWW-Authenticate"}
    for path in ("/api/v1/counts", "/api/v1/most-commented", "/api/v1/articles/{key}/comments"):
        responses = paths[path]["get"]["responses"]
        assert set(responses["200"]["headers"]) == {"ETag", "Cache-Control"}
        assert set(responses["304"]["headers"]) == {"ETag"}
    assert "headers" not in paths["/api/v1/articles/{key}"]["get"]["responses"]["200"]  # not cacheable


def test_every_answer_matches_the_document(live_api):
    """Each operation in turn: Hypothesis draws requests from the document (with a valid key), the
    checks judge every answer, and a failure is shrunk to its smallest request."""
    base, key = live_api
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6
    for operation, mode in itertools.product(operations, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)):
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def answers_as_documented(case):
            case.call_and_validate(base_url=base, headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)

        answers_as_documented()
