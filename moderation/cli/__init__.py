"""`flask` commands for operators, one module per group; every change they make is logged as `cli`."""

from __future__ import annotations

from flask import Flask

from moderation.cli import api_keys, dashboard, data, jobs, moderators, rules, sanctions, screening, setup, webhooks


def register(app: Flask) -> None:
    for module in (setup, rules, moderators, data, screening, api_keys, jobs, webhooks, sanctions, dashboard):
        module.register(app)
