"""The figures the service counts as it works, for /metrics (moderation/web/metrics.py).

prometheus_client keeps them per process. Under gunicorn, gunicorn.conf.py points
PROMETHEUS_MULTIPROC_DIR at a folder before the workers start; each worker then writes its figures
there and a scrape adds them up, whichever worker answers it. Figures that live in the database
(queue size, deliveries waiting) are read at scrape time instead (web/metrics.py).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUEST_SECONDS = Histogram(
    "moderation_http_request_duration_seconds", "Time to answer a request, by endpoint, method and status.",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
COMMENTS_POSTED = Counter(
    "moderation_comments_posted_total", "Comments stored, by where screening sent them.", ["status"])
DECISIONS = Counter(
    "moderation_decisions_total", "Moderators' decisions applied, by decision and moderator.",
    ["decision", "moderator"])
SCREENING_SECONDS = Histogram(
    "moderation_screening_duration_seconds", "Time to screen one comment.",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25))
CAPTCHA_FAILURES = Counter(
    "moderation_captcha_failures_total", "Captcha answers refused, by cause.", ["cause"])
WEBHOOK_ATTEMPT_FAILURES = Counter(
    "moderation_webhook_attempt_failures_total", "Webhook delivery attempts that failed, by problem.", ["problem"])
WEBHOOK_DELIVERIES_GIVEN_UP = Counter(
    "moderation_webhook_deliveries_failed_total", "Webhook deliveries given up after their last retry.")
DATABASE_CONNECTIONS_IN_USE = Gauge(
    "moderation_database_connections_in_use", "Pooled database connections checked out.",
    multiprocess_mode="livesum")
