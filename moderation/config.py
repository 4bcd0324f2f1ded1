"""Every tunable of the service, with its default.

Precedence, lowest first: these defaults, `instance/config.py`, environment variables
prefixed `MODERATION_` (values parsed as JSON when they can be, e.g. `MODERATION_CAPTCHA_LENGTH=5`),
`DATABASE_URL` / `REDIS_URL` from the environment, and finally the mapping given to `create_app`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

from moderation import rate_limit_storage
from moderation.database import engine_options
from moderation.models import utcnow

# Letters and digits that no warp of ours turns into another: no 0/O/Q/D-like rounds (O, Q), no
# strokes (1, I, L, 7, which tilted reads as 1 or >), and one of each pair people swap (B/8, G/6,
# S/5, Z/2, U/V, V/Y): 23 signs, 279,841 four-character answers, each challenge used once.
CAPTCHA_ALPHABET = "ACDEFHJKMNPRTWXY2345689"


def random_captcha_text(length: int = 4) -> str:
    return "".join(secrets.choice(CAPTCHA_ALPHABET) for _ in range(length))


DEFAULTS: dict[str, object] = {
    # Storage. None means SQLite in the instance folder.
    "DATABASE_URL": None,
    # A database that is down or stalled costs a request seconds, never a worker (gunicorn kills
    # workers at 30 s): connect, statement and pool-wait timeouts; then 503 with Retry-After.
    # moderation/database.py says which bound covers which round trip.
    "DATABASE_CONNECT_TIMEOUT_SECONDS": 3,
    "DATABASE_STATEMENT_TIMEOUT_MS": 5000,  # enforced by the server, while bytes reach it
    "DATABASE_LOCK_TIMEOUT_MS": 2000,  # a table locked by a migration or a stuck transaction
    # Enforced by the client: a link that stops passing bytes. Above the statement timeout, so a
    # slow statement gets the server's own error first.
    "DATABASE_ANSWER_TIMEOUT_SECONDS": 6,
    "DATABASE_PING_TIMEOUT_SECONDS": 1.5,  # a pooled connection's check before use
    # A connection given back to the pool less than this ago is used without that check: it answered
    # a moment ago (HikariCP's aliveBypassWindowMs). 0: every checkout is checked.
    "DATABASE_PING_AFTER_IDLE_SECONDS": 0.5,
    # Enforced by the server: a session idle inside a transaction whose client vanished (a request's
    # transactions never idle this long) is ended, and its locks with it.
    "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS": 15000,
    "DATABASE_POOL_TIMEOUT_SECONDS": 5,
    # /readyz answers within this, whatever the database does (a probe must never hold a worker).
    "READINESS_TIMEOUT_SECONDS": 2,
    # Below this free on the instance folder's disk (the SQLite database, exports, uploads), /readyz
    # warns "disk_low" and /metrics shows it; readiness stands, since reading still works.
    "DISK_LOW_BYTES": 200 * 1024 * 1024,
    # While this file exists (relative to the instance folder), /readyz answers 503 "draining" so a
    # load balancer stops sending before the server is stopped (README: restarts without a dropped request).
    "DRAIN_FILE": "draining",
    "OUTAGE_RETRY_AFTER_SECONDS": 30,
    # Where Flask-Limiter keeps its counters; REDIS_URL (when set) makes limits hold across workers.
    "REDIS_URL": None,
    # Requests larger than this are refused with a 400 page (Flask has no limit by default).
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # Number of reverse proxies in front of the app whose X-Forwarded-For is trusted. 0: use the socket.
    "TRUSTED_PROXY_COUNT": 0,
    # Sessions: bounded, HttpOnly, SameSite=Lax. Set SESSION_COOKIE_SECURE=true behind HTTPS.
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    # How long the per-browser author token cookie lives.
    "READER_TOKEN_MAX_AGE": int(timedelta(days=365).total_seconds()),
    # Comment form. Its errors are codes the templates word (FormError) and its labels are the
    # templates' own: WTForms' message catalogue, which Flask-WTF would read from disk for every
    # form built (for the default labels), is never shown.
    "WTF_I18N_ENABLED": False,
    "NICKNAME_MAX_LENGTH": 20,
    "COMMENT_MAX_LENGTH": 2000,
    "RESERVED_NICKNAMES": [
        "管理員", "管理员", "版主", "站長", "站长", "編輯", "编辑", "編輯部", "编辑部", "小編", "小编",
        "客服", "官方", "儀器網", "仪器网", "板主", "管理人", "管理者", "站務", "版務", "總編", "主編", "責編",
        "admin",
        "administrator", "sysadmin", "sysop", "superuser", "moderator", "mod", "root", "system",
        "webmaster", "staff", "editor",  # "editor": the English words of the site's 「本站編輯」 badge
    ],
    # Captcha.
    "CAPTCHA_LENGTH": 4,
    "CAPTCHA_TEXT_FACTORY": None,  # zero-argument callable; None draws CAPTCHA_LENGTH random characters
    "CAPTCHA_EXPIRY_SECONDS": 600,
    "CAPTCHA_MIN_SECONDS": 2,
    "CAPTCHA_SKIP_FOR_TRUSTED": True,  # authors the trust ramp trusts (SCREENING_TRUST_AFTER) post without one
    "CAPTCHA_MAX_FAILURES": 8,  # per browser, within CAPTCHA_FAILURE_WINDOW_SECONDS
    "CAPTCHA_MAX_FAILURES_PER_IP": 40,  # generous: a school or office shares one address
    # Behind an address over its limit, a browser that failed waits this long, doubling per failure
    # (a browser that has not failed is never held back by its neighbours).
    "CAPTCHA_SHARED_ADDRESS_DELAY_SECONDS": 10,
    "CAPTCHA_FAILURE_WINDOW_SECONDS": 600,
    "CAPTCHA_IMAGE_RATE_LIMIT": "60 per minute",
    "CAPTCHA_AUDIO_RATE_LIMIT": "6 per minute;30 per hour",
    # A refused captcha request says when to try again (Retry-After): the audio player tells the reader.
    "RATELIMIT_HEADERS_ENABLED": True,
    # Screening (moderation/screening): thresholds of the link, flood and trust checks.
    "SCREENING_MAX_LINKS": 2,  # more links than this (allow-listed domains not counted) → hold
    "SCREENING_DUPLICATE_WINDOW_SECONDS": 3600,  # same normalised text, same author, within → spam
    "SCREENING_AUTHOR_PER_MINUTE": 3,  # more comments than this per author per minute → hold
    "SCREENING_IP_PER_MINUTE": 30,  # per address, much higher: schools and offices share one
    "SCREENING_TRUST_AFTER": 3,  # previous N comments approved, none rejected/spam in the window
    "SCREENING_TRUST_WINDOW_DAYS": 30,
    "SCREENING_TRUST_IN_PRE_MODERATION": False,  # trusted authors skip the queue in pre-moderation
    # The article page: approved comments per page (newest first), and how long shared caches (a
    # CDN, deploy/nginx.conf) may keep it and the thread pages before asking again; browsers ask
    # each time (web/reader.py, shared_cache_headers), and browsers may keep the comments API's
    # answers for ARTICLE_CACHE_MAX_AGE. Short, since an approval should show soon; the ETag makes
    # asking again cheap (304).
    "COMMENTS_PAGE_SIZE": 50,
    "ARTICLE_CACHE_MAX_AGE": 10,
    "ARTICLE_CACHE_S_MAXAGE": 10,
    # The embedded comment section (/embed/<key>, static/embed.js): origins that may frame it for
    # every article, beside the ones each site lists (services.embed_sites; `flask embed allow`).
    # A list, or one string of origins separated by spaces or commas; none: only the sites' own.
    "EMBED_ALLOWED_ORIGINS": [],
    # How long the frame's signed state (reader token, captcha nonce, CSRF) stays valid when the
    # browser keeps no cookie for the frame: a reading session, not a year like the cookie.
    "EMBED_STATE_MAX_AGE": int(timedelta(hours=12).total_seconds()),
    # Likes (讚, services.likes): how a cached page's like counts and 最熱 order may lag. A like does
    # not change the article's revision (every click would empty the page cache); a finished page is
    # rendered again at most this often instead, so counts and 最熱 are at most this many seconds
    # old, and a page whose counts did not change keeps its ETag (304).
    "ARTICLE_COUNTS_REFRESH_SECONDS": 10,
    # Likes from one address on one comment that count (an office or a household); more are
    # stored, shown pressed to their readers, and not counted.
    "LIKES_COUNTED_PER_ADDRESS": 3,
    # Flask-Limiter: likes and undos per address (generous: many readers share one) and per reader.
    "LIKE_RATE_LIMIT_PER_ADDRESS": "120 per minute;1000 per hour",
    "LIKE_RATE_LIMIT_PER_READER": "30 per minute;300 per hour",
    # Finished article pages each worker keeps in memory (LRU; about 60 KB each).
    "ARTICLE_PAGE_CACHE_SIZE": 256,
    # Moderators: login throttling (per account name and per address; no lockout), queue paging.
    # Failed sign-ins delay only the address they come from (moderation/accounts.py): free failures
    # per account and address, per address across names, and the account-wide alarm; then a delay
    # of LOGIN_BASE_DELAY doubling with each failure, at most LOGIN_WINDOW.
    "LOGIN_FREE_FAILURES": 5,
    "LOGIN_ADDRESS_FAILURES": 30,
    "LOGIN_ACCOUNT_ALARM": 20,
    "LOGIN_BASE_DELAY": timedelta(seconds=30),
    "LOGIN_WINDOW": timedelta(minutes=15),
    # argon2id cost of new password hashes (argon2-cffi's defaults; raise with the hardware).
    "PASSWORD_HASH_TIME_COST": 3,
    "PASSWORD_HASH_MEMORY_KIB": 65536,
    "PASSWORD_HASH_PARALLELISM": 4,
    "QUEUE_PAGE_SIZE": 50,
    # After a decision made in place (with the queue's script), how long its 「復原」 button stays:
    # long enough to catch a wrong key, short enough that the line does not pile up.
    "QUEUE_UNDO_SECONDS": 8,
    "AUTHOR_HISTORY_LIMIT": 200,
    # Reader reports: this many distinct readers hide a published comment until a moderator decides.
    "REPORT_HIDE_THRESHOLD": 3,
    "REPORTS_PER_HOUR": 10,  # per reader
    "REPORTS_PER_HOUR_PER_ADDRESS": 30,  # per address: an office may report, one client may not flood
    # The reader's own words beside a report (其他): short, one line, shown on the moderator's card.
    "REPORT_NOTE_MAX_LENGTH": 200,
    # Zero-argument callable returning an aware UTC datetime; tests inject their own clock.
    "CLOCK": None,
    # A jinja2.BytecodeCache shared by apps of one process (the test suite builds an app per test
    # and would otherwise compile every template again each time).
    "TEMPLATE_BYTECODE_CACHE": None,
    # /metrics (Prometheus) answers only a scraper that sends `Authorization: Bearer <this>`; unset, it is 404.
    "METRICS_TOKEN": None,
    # `flask retention` erases address hashes (comments, audit rows, throttling rows) older than this.
    "RETENTION_ADDRESS_DAYS": 90,
    # One JSON line per request on stderr (moderation.web.request_log): no addresses, no posted text.
    "REQUEST_LOG": True,
    # The newsroom (moderation/services/newsroom.py, the JSON API under /api/v1, the admin's article form).
    # Comments close this many days after publication (`flask articles close-expired`, from cron);
    # an article may set its own (0: never). None or 0 here: only articles that set days close.
    "COMMENTS_CLOSE_AFTER_DAYS": 14,
    "ARTICLE_BODY_MAX_LENGTH": 50_000,  # characters; a long feature is some 10,000
    # Requests to the API and the article form may be larger than MAX_CONTENT_LENGTH: a body of
    # 50,000 Han characters is 300 KB as JSON \u escapes and 450 KB percent-encoded in a form.
    "API_MAX_CONTENT_LENGTH": 512 * 1024,
    "ARTICLE_FORM_MAX_CONTENT_LENGTH": 1024 * 1024,
    # The counts for list pages (count.js) and the front page's most commented: public, cached briefly.
    "COUNTS_MAX_KEYS": 100,
    "COUNTS_CACHE_MAX_AGE": 30,
    "MOST_COMMENTED_CACHE_MAX_AGE": 60,
    "MOST_COMMENTED_LIMIT": 10,
    # Jobs (moderation/jobs): where the outbox's deliveries go after commit. None: "redis" when
    # REDIS_URL is set (`flask worker` works the queue), else "thread" (a thread in each web
    # process); "off" leaves them to the relay alone (`flask outbox relay`, tests).
    "JOBS_RUNNER": None,
    "JOBS_QUEUE": "moderation",  # the RQ queue's name
    # A hand-over to Redis waits at most this; after a failure none is tried for the pause (the relay catches up).
    "JOBS_REDIS_TIMEOUT_SECONDS": 0.5,
    "JOBS_REDIS_PAUSE_SECONDS": 30,
    "OUTBOX_RELAY_SECONDS": 30,  # how often the worker re-reads the outbox for deliveries due or lost
    "OUTBOX_HANDOVER_GRACE_SECONDS": 60,
    # Events carry comments' words: the relay deletes those older than this whose deliveries all ended.
    "OUTBOX_KEEP_DAYS": 7,  # a delivery handed over this long ago and still pending is handed again
    # Webhooks (services/webhooks.py): short timeouts, a bounded answer, retries doubling from
    # the first wait up to the longest, for a day; then the delivery is shown as failed.
    "WEBHOOK_CONNECT_TIMEOUT_SECONDS": 2,
    "WEBHOOK_TOTAL_TIMEOUT_SECONDS": 5,
    "WEBHOOK_MAX_RESPONSE_BYTES": 64 * 1024,
    "WEBHOOK_LEASE_SECONDS": 60,  # a worker's hold on a delivery it is sending (longer than the total timeout)
    "WEBHOOK_RETRY_FIRST_SECONDS": 30,
    "WEBHOOK_RETRY_MAX_SECONDS": 7200,
    "WEBHOOK_RETRY_WINDOW_SECONDS": 86400,
    "WEBHOOK_RESOLVER": None,  # callable (host, port) -> addresses; None: the system's DNS (tests inject one)
    # Without Redis, one thread per web process sends deliveries in batches (jobs/batches.py): it waits
    # until posts have paused for WEBHOOK_BATCH_QUIET_SECONDS, and at most WEBHOOK_BATCH_MAX_LAG_SECONDS,
    # so that it works between requests rather than beside them; at most WEBHOOK_BATCH_SIZE per batch.
    "WEBHOOK_BATCH_SIZE": 100,
    "WEBHOOK_BATCH_QUIET_SECONDS": 0.05,
    "WEBHOOK_BATCH_MAX_LAG_SECONDS": 0.5,
    # The batch sender checks an endpoint's address (DNS, SSRF rules) at most this often and connects to
    # the address it checked; it keeps a connection to it open this long between deliveries.
    "WEBHOOK_ADDRESS_CHECK_SECONDS": 30,
    "WEBHOOK_KEEPALIVE_SECONDS": 30,
    # Moderator alerts (services/alerts.py): endpoints in a chat format get one message per quiet
    # period (a digest of what fell due meanwhile, at most ALERT_DIGEST_MAX events), in ALERT_LANGUAGE.
    "ALERT_QUIET_SECONDS": 300,
    # E-mail alerts (endpoints of format "email", URL mailto:a@example.com,b@example.com) go through this
    # SMTP server: STARTTLS when SMTP_STARTTLS, TLS from the start when SMTP_SSL (port 465); a login when
    # SMTP_USERNAME is set. Bounded like webhooks: WEBHOOK_TOTAL_TIMEOUT_SECONDS per exchange.
    # A long job (re-screening, erasing an author) that has not reported progress for this long is
    # taken for dead (its worker stopped): a new start marks it failed and begins again.
    "LONG_JOB_STALE_SECONDS": 120,
    # The external check, the webhook endpoints' events and the address holds in force are kept per
    # worker this long (moderation/short_lived.py): an admin's change reaches every worker within it,
    # and posting reads none of them. 0: read on every post.
    "SETTINGS_CACHE_SECONDS": 5,
    # The admin's external check (services/external_check.py) has this long to answer for each comment.
    "EXTERNAL_CHECK_TIMEOUT_SECONDS": 2.0,
    "ERASE_CHUNK": 500,  # comments deleted per transaction when an author is erased (progress after each)
    # The admin page's import (web/data_admin.py): the largest export it takes as an upload. The
    # whole file is read into memory to be checked before the job starts; bigger restores go
    # through `flask import` on the server.
    "IMPORT_MAX_BYTES": 64 * 1024 * 1024,
    # Export files the admin page's export jobs keep in instance/exports/ (they hold the comments
    # and the keyed hashes of addresses): a new export deletes all but the newest this many.
    "EXPORTS_KEPT": 3,
    "IMPORT_BATCH": 1000,  # rows per INSERT of the page's import, each committed with its progress
    # How often a long job stores its counts and looks whether it was asked to stop.
    "LONG_JOB_PROGRESS_SECONDS": 0.5,
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    "SMTP_STARTTLS": False,
    "SMTP_SSL": False,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_FROM": "moderation@localhost",
    "ALERT_DIGEST_MAX": 50,
    "ALERT_LANGUAGE": "zh-Hant",  # zh-Hant, zh-Hans or en
    # The queue.backlog event: more pending comments than this, or the oldest waiting longer; said
    # again at most once per ALERT_BACKLOG_REPEAT_MINUTES. The relay checks it every OUTBOX_RELAY_SECONDS.
    "ALERT_QUEUE_SIZE": 50,
    "ALERT_QUEUE_AGE_MINUTES": 60,
    "ALERT_BACKLOG_REPEAT_MINUTES": 60,
    # The site's address as moderators reach it (https://news.example.com): alerts link to the card
    # in the queue. None: no links (a worker has no request to learn it from).
    "PUBLIC_BASE_URL": None,
    # Surge mode (services/surge.py): an article switches itself to pre-moderation when, in the last
    # minute, it receives more than SURGE_RATE_PER_MINUTE comments, or at least SURGE_MIN_PER_MINUTE and
    # SURGE_MEDIAN_FACTOR times its median rate (over its hours with comments in the last 7 days); or
    # when one text (or one reading of it) comes from SURGE_CLUSTER_AUTHORS authors within
    # SURGE_CLUSTER_MINUTES (texts of at least SURGE_CLUSTER_MIN_LENGTH characters without spaces: many
    # readers write 謝謝分享 alike). It switches back after SURGE_QUIET_MINUTES without another such post,
    # unless an admin set the mode meanwhile.
    "SURGE_RATE_PER_MINUTE": 30,
    "SURGE_MEDIAN_FACTOR": 10,
    "SURGE_MIN_PER_MINUTE": 5,
    "SURGE_CLUSTER_AUTHORS": 3,
    "SURGE_CLUSTER_MINUTES": 10,
    "SURGE_QUIET_MINUTES": 30,
    "SURGE_CLUSTER_MIN_LENGTH": 10,
    # The dashboard (/moderation/dashboard): rows in its top lists.
    "DASHBOARD_TOP": 10,
    # Display.
    "DISPLAY_TIMEZONE": "Asia/Taipei",
    # The site's name in page titles, headers and the embedded frame's title; empty: 儀器網, in the
    # reader's language (仪器网, Instrument News). A name set here is reserved as a nickname too.
    "SITE_NAME": "",
    # The article `/` redirects to.
    "FRONT_PAGE_ARTICLE": "inspection-testing-excellent-cases",
}


class ConfigError(ValueError):
    """A setting the service cannot start with, said in one line that names it and what it wants."""


GENERATE_SECRET = "python3 -c 'import secrets; print(secrets.token_hex(32))'"
SECRET_MIN_LENGTH = 32  # characters of MODERATION_SECRET_KEY and MODERATION_IP_PEPPER set by an operator


def load_config(app, overrides: dict | None) -> None:
    """Fill `app.config` in precedence order and make sure the secrets exist."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("MODERATION", loads=_loads_or_text)
    for key in ("DATABASE_URL", "REDIS_URL"):
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    if overrides:
        app.config.from_mapping(overrides)
    _check_settings(app.config)

    for key in ("LOGIN_WINDOW", "LOGIN_BASE_DELAY", "PERMANENT_SESSION_LIFETIME"):
        if isinstance(app.config[key], int | float):
            app.config[key] = timedelta(seconds=app.config[key])

    app.config["EMBED_ALLOWED_ORIGINS"] = _embed_origins(app.config["EMBED_ALLOWED_ORIGINS"])
    site_name = str(app.config["SITE_NAME"] or "").strip()
    if site_name and site_name not in app.config["RESERVED_NICKNAMES"]:
        app.config["RESERVED_NICKNAMES"] = [*app.config["RESERVED_NICKNAMES"], site_name]

    instance = Path(app.instance_path)
    if not app.config["DATABASE_URL"]:
        _writable_instance(instance, "the SQLite database (moderation.sqlite3) is kept there")
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'moderation.sqlite3'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_url(app.config["DATABASE_URL"])
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"], app.config))
    # Without Redis, the counters stay in the worker, swept of expired ones every few seconds.
    app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or f"{rate_limit_storage.SCHEME}://"
    if app.config["REDIS_URL"]:
        # Redis away: each worker counts in its own memory until Redis answers again (Flask-Limiter
        # asks it now and then), so readers still get captchas and likes, never a 500; a stalled
        # Redis costs a request half a second once, not the client's default wait.
        app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 0.5, "socket_timeout": 0.5})
    if app.config["CLOCK"] is None:
        app.config["CLOCK"] = utcnow
    if app.config["CAPTCHA_TEXT_FACTORY"] is None:
        length = int(app.config["CAPTCHA_LENGTH"])
        app.config["CAPTCHA_TEXT_FACTORY"] = lambda: random_captcha_text(length)

    missing = [key for key in ("SECRET_KEY", "IP_PEPPER") if not app.config.get(key)]
    if missing:
        if not (instance / "secrets.json").exists():
            _writable_instance(instance, "secrets.json, the generated secrets, is written there on the first start")
        stored = _load_or_create_secrets(instance / "secrets.json")
        for key in missing:
            app.config[key] = stored[key]


def _check_settings(config) -> None:
    """Numbers and switches of the right kind (an environment variable is read as JSON, else as
    text: `MODERATION_CAPTCHA_LENGTH=abc` is text), a callable captcha text, and a secret key long
    enough when the operator sets it: refused at the start, in one line, not deep in a request."""
    for key, default in DEFAULTS.items():
        value = config.get(key)
        if value is None or default is None:
            continue
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{key} (MODERATION_{key}): true or false, not {value!r}")
        elif isinstance(default, int | float) and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConfigError(f"{key} (MODERATION_{key}): a number, not {value!r}")
        elif (isinstance(default, int) and not key.endswith(_DURATIONS) and isinstance(value, float)
              and not value.is_integer()):
            raise ConfigError(f"{key} (MODERATION_{key}): a whole number, not {value!r}")
    factory = config.get("CAPTCHA_TEXT_FACTORY")
    if factory is not None and not callable(factory):
        raise ConfigError("CAPTCHA_TEXT_FACTORY: a function that returns a challenge's text, set in "
                          "instance/config.py (an environment variable can only give text)")
    if 0 < len(os.environ.get("MODERATION_SECRET_KEY", "")) < SECRET_MIN_LENGTH:
        raise ConfigError(f"MODERATION_SECRET_KEY: at least {SECRET_MIN_LENGTH} characters; make one with "
                          f"{GENERATE_SECRET} (a new key signs everyone out)")
    # The pepper keys every stored address hash, author tag and address hold: a new one would unlink
    # them all, so a short one already in use is said, not refused.
    if 0 < len(os.environ.get("MODERATION_IP_PEPPER", "")) < SECRET_MIN_LENGTH:
        logging.getLogger("moderation").warning(
            "MODERATION_IP_PEPPER is shorter than %d characters; a new install should use one made with %s "
            "(a running site keeps its own: changing it unlinks authors' tags, holds and address hashes)",
            SECRET_MIN_LENGTH, GENERATE_SECRET)


_DURATIONS = ("_SECONDS", "_MS")  # may be fractional where the default is whole (a 2.5 s timeout)


def _writable_instance(instance: Path, why: str) -> None:
    try:
        instance.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot create the instance folder {instance}: {error.strerror} ({why})") from None
    if not os.access(instance, os.W_OK | os.X_OK):
        raise ConfigError(f"the instance folder {instance} is not writable by this user ({why}; SQLite "
                          "also writes its journal beside the database): make it writable, or set "
                          "DATABASE_URL and MODERATION_SECRET_KEY / MODERATION_IP_PEPPER")


def _embed_origins(value) -> list[str]:
    """The operator's origins, normalised; a malformed one stops the start (a typo must not
    silently leave a site unable to frame the comments, or allow the wrong one)."""
    from moderation.services.embed_sites import OriginError, parse_origins

    values = value.replace(",", " ").split() if isinstance(value, str) else list(value or [])
    try:
        return parse_origins(values)
    except OriginError as error:
        raise ConfigError(f"EMBED_ALLOWED_ORIGINS: not an origin (scheme://host[:port]): {error.value}") from None


# What the schema, its migrations, the timeouts (psycopg's) and the tests are written for.
_DATABASE_SCHEMES = {"sqlite": "sqlite", "sqlite+pysqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg",
                     "postgres": "postgresql+psycopg", "postgresql+psycopg": "postgresql+psycopg",
                     "postgres+psycopg": "postgresql+psycopg"}
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*)://")


def sqlalchemy_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (SQLAlchemy would otherwise pick psycopg2). Another kind
    of database or driver, or text that is no database URL, is a ConfigError naming the URL's scheme
    alone (the rest may hold a password)."""
    scheme = _SCHEME.match(url)
    if scheme is None:
        raise ConfigError(f"DATABASE_URL is not a database URL; {_WANTED_DATABASE}")
    if scheme[1] not in _DATABASE_SCHEMES:
        raise ConfigError(f"DATABASE_URL is a {scheme[1]}:// URL; {_WANTED_DATABASE}")
    return _DATABASE_SCHEMES[scheme[1]] + url[len(scheme[1]):]


_WANTED_DATABASE = "this service runs on SQLite or PostgreSQL (psycopg): sqlite:///PATH or postgresql://USER@HOST:PORT/NAME"


def _loads_or_text(value: str):
    try:
        return json.loads(value)
    except ValueError:
        return value


def _load_or_create_secrets(path: Path) -> dict[str, str]:
    """Secrets are generated on first start and kept in the instance folder, never defaulted."""
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    generated = {"SECRET_KEY": secrets.token_hex(32), "IP_PEPPER": secrets.token_hex(32)}
    # O_EXCL: two workers starting at once must not write two different secrets.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return json.loads(path.read_text())
    with os.fdopen(fd, "w") as handle:
        json.dump(generated, handle)
    return generated
