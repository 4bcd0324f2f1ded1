"""`flask` commands for operators, one module per group; every change they make is logged as `cli`."""

from __future__ import annotations

from flask import Flask

from moderation.cli import api_keys, data, moderators, rules, screening, setup


def register(app: Flask) -> None:
    for module in (setup, rules, moderators, data, screening, api_keys):
        module.register(app)
