"""What a web worker does once, before its first request (gunicorn.conf.py, post_worker_init): the
screening rules compiled and the tables screening reads loaded.

Without it the first reader to post after a start, a reload or a worker's replacement (gunicorn's
max_requests) waited for them: half a second with the starter rules, longer with a long word list.
"""

from __future__ import annotations

import logging
import time

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from moderation.clock import now
from moderation.extensions import db
from moderation.screening.pipeline import AuthorFacts, Submission, screen
from moderation.services.rulebook.cache import active_rules

log = logging.getLogger(__name__)
# Han, Latin, a link and a nickname: every table the screening of a comment reads is loaded.
SAMPLE = Submission("這篇報導很有參考價值，請加微信 https://example.com/a", "讀者小林")


def warm_up(app: Flask) -> float | None:
    """Seconds it took; None when the rules could not be read (the first post builds them then)."""
    started = time.perf_counter()
    with app.app_context():
        try:
            rules = active_rules(db.session, app.config, app.extensions["screening_rules"])
        except SQLAlchemyError as error:
            log.warning("screening rules not prepared before the first request (%s); the first post builds them",
                        type(error).__name__)
            return None
        finally:
            db.session.remove()
        screen(SAMPLE, AuthorFacts(), rules, now=now())
    return time.perf_counter() - started
