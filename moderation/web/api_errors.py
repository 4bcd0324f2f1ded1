"""The JSON API's errors: `{"error": {"code": "...", "message": "..."}}`, a stable code for programs
and a message in the request's language for the people reading logs. Never an HTML page under /api/,
whatever went wrong (unknown URL, wrong method, oversized body, outage, bug).
"""

from __future__ import annotations

from flask import current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from moderation.services.newsroom import COLUMN_MAX, HEADLINE_MAX, ArticleProblem
from moderation.web.languages import LazyText as lazy_gettext

API_PREFIX = "/api/"

# code → message (msgids are the zh-Hant texts, as in the templates).
MESSAGES = {
    "unauthorized": lazy_gettext("需要有效的 API 金鑰（Authorization: Bearer …）。"),
    "forbidden_scope": lazy_gettext("這個 API 金鑰沒有此操作的權限。"),
    "not_found": lazy_gettext("找不到這個網址。"),
    "article_not_found": lazy_gettext("找不到這篇文章。"),
    "method_not_allowed": lazy_gettext("這個網址不接受此方法。"),
    "json_expected": lazy_gettext("請以 JSON 傳送（Content-Type: application/json）。"),
    "invalid_json": lazy_gettext("內容不是有效的 JSON 物件。"),
    "unknown_field": lazy_gettext("有不認得的欄位。"),
    "too_large": lazy_gettext("請求太大：API 一次最多收 %(kb)s KB。"),
    "malformed": lazy_gettext("請求含有無效的字元。"),
    "invalid_fields": lazy_gettext("文章欄位有誤，詳見 fields。"),
    "keys_missing": lazy_gettext("請以 keys 參數列出文章代號，以逗號分隔。"),
    "too_many_keys": lazy_gettext("一次最多查詢 100 篇文章。"),
    "bad_parameter": lazy_gettext("查詢參數無效。"),
    "bad_cursor": lazy_gettext("分頁位置無效。"),
    "bad_request": lazy_gettext("請求無效。"),
    "unavailable": lazy_gettext("服務暫時無法使用，請稍後再試。"),
    "server_error": lazy_gettext("伺服器發生錯誤。"),
}

# What is wrong with one field of an article (the API's `fields`, and the admin form's messages).
ARTICLE_PROBLEMS = {
    ArticleProblem.KEY_INVALID: lazy_gettext("文章代號只能用英文字母、數字與 . _ : ~ -，最長 128 字元，不可有斜線、逗號或空白。"),
    ArticleProblem.KEY_TAKEN: lazy_gettext("這個文章代號已被另一篇文章使用。"),
    ArticleProblem.HEADLINE_MISSING: lazy_gettext("請填寫標題。"),
    ArticleProblem.HEADLINE_TOO_LONG: lazy_gettext("標題太長：最多 %(max)s 個字。"),
    ArticleProblem.HEADLINE_IS_HTML: lazy_gettext("標題須為純文字，不接受 HTML 標籤。"),
    ArticleProblem.COLUMN_TOO_LONG: lazy_gettext("欄目名稱太長：最多 %(max)s 個字。"),
    ArticleProblem.BODY_MISSING: lazy_gettext("請填寫內文。"),
    ArticleProblem.BODY_TOO_LONG: lazy_gettext("內文太長：最多 %(max)s 個字。"),
    ArticleProblem.BODY_IS_HTML: lazy_gettext("內文須為純文字：段落之間空一行，拼音以「字(pīn)」寫在字後；不接受 HTML。"),
    ArticleProblem.GLOSS_TONE_NUMBERS: lazy_gettext("拼音請用聲調符號，例如 網(wǎng)，不用數字（wang3）。"),
    ArticleProblem.CONTROL_CHARACTERS: lazy_gettext("含有控制字元或不可見的格式字元。"),
    ArticleProblem.NOT_TEXT: lazy_gettext("須為文字（JSON 字串）。"),
    ArticleProblem.SLUG_INVALID: lazy_gettext("網址代稱只能用英文字母、數字與 . _ -，最長 120 字元。"),
    ArticleProblem.SLUG_TAKEN: lazy_gettext("這個網址代稱已被另一篇文章使用。"),
    ArticleProblem.PUBLISHED_AT_INVALID: lazy_gettext("發布時間須為含時區的時間，例如 2026-12-03T09:00:00+08:00。"),
    ArticleProblem.MODE_INVALID: lazy_gettext("評論模式須為 pre、post 或 closed。"),
    ArticleProblem.CLOSE_AFTER_DAYS_INVALID: lazy_gettext("自動關閉天數須為 0 到 3650 的整數（0：不自動關閉）。"),
}
# The limit a "too long" problem says (the body's is a setting).
_TOO_LONG = {ArticleProblem.HEADLINE_TOO_LONG: lambda: HEADLINE_MAX, ArticleProblem.COLUMN_TOO_LONG: lambda: COLUMN_MAX,
             ArticleProblem.BODY_TOO_LONG: lambda: current_app.config["ARTICLE_BODY_MAX_LENGTH"]}


def problem_message(problem: ArticleProblem) -> str:
    """The problem in the request's language, with the limit it broke."""
    text = str(ARTICLE_PROBLEMS[problem])
    limit = _TOO_LONG.get(problem)
    return text % {"max": f"{limit():,}"} if limit else text

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden_scope", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 415: "json_expected", 503: "unavailable"}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(status: int, code: str, *, headers: dict | None = None, **extra):
    message = str(MESSAGES[code])
    if code == "too_large":  # the whole request, not the article's body (whose limit its field says)
        message = message % {"kb": f"{current_app.config['API_MAX_CONTENT_LENGTH'] // 1024:,}"}
    response = jsonify(error={"code": code, "message": message, **extra})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def for_http_error(error: HTTPException):
    """An HTTP error raised anywhere under /api/ (routing included), as JSON with its headers (Allow…)."""
    status = error.code or 500
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    return error_response(status, HTTP_CODES.get(status, "bad_request" if status < 500 else "server_error"),
                          headers=headers)


def field_problems(problems: dict[str, ArticleProblem]) -> dict[str, dict[str, str]]:
    return {field: {"code": problem.value, "message": problem_message(problem)}
            for field, problem in problems.items()}
