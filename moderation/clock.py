"""The app's clock (CLOCK in the config, injected by tests): the one `now()` of views and commands."""

from __future__ import annotations

from datetime import datetime

from flask import current_app


def now() -> datetime:
    return current_app.config["CLOCK"]()
