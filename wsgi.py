"""WSGI entry point of a checkout: `gunicorn wsgi:app`, `flask --app wsgi ...` (moderation/wsgi.py)."""

from moderation.wsgi import app

__all__ = ["app"]
