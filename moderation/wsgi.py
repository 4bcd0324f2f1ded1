"""The app as servers and commands load it: `gunicorn moderation.wsgi:app`,
`flask --app moderation.wsgi …` (an installed wheel has no top-level wsgi.py; a checkout's imports this).

A setting the service cannot start with is said in one line, not a traceback: `flask` and a
command exit with it; under gunicorn the app fails to load, which stops the server (a worker that
merely exited would be started again, for ever)."""

import sys

from moderation import create_app
from moderation.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    message = f"moderation: cannot start: {error}"
    if "gunicorn" in sys.modules:
        from gunicorn.errors import AppImportError

        raise AppImportError(message) from None
    raise SystemExit(message) from None
