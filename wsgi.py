"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from moderation import create_app
from moderation.config import ConfigError

try:
    app = create_app()
except ConfigError as error:  # a setting the service cannot start with: said in one line, no traceback
    raise SystemExit(f"moderation: cannot start: {error}") from None
