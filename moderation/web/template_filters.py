"""Jinja filters for times, in the site's display time zone and from the app's clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from moderation.services.listing import public_text
from moderation.web.languages import LazyText as lazy_gettext

DEFAULT_SITE_NAME = lazy_gettext("儀器網")


def register(app: Flask) -> None:
    zone = ZoneInfo(app.config["DISPLAY_TIMEZONE"])

    @app.template_filter("local_time")
    def local_time(moment):
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    @app.template_filter("iso_time")
    def iso_time(moment):
        return moment.astimezone(zone).isoformat(timespec="minutes")

    app.add_template_filter(public_text, "public_body")

    @app.template_global("site_name")
    def site_name() -> str:
        """`SITE_NAME` as set, or the site's name in the reader's language."""
        return app.config["SITE_NAME"] or str(DEFAULT_SITE_NAME)

    @app.template_global("display_zone")
    def display_zone() -> str:
        """The display time zone as people read it: its offset now, then its name (UTC+8, Asia/Taipei)."""
        offset = app.config["CLOCK"]().astimezone(zone).utcoffset()
        minutes = int(offset.total_seconds() // 60)
        sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
        hours = f"{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
        return f"UTC{sign}{hours}, {app.config['DISPLAY_TIMEZONE']}"

    @app.template_filter("parse_iso")
    def parse_iso(value: str):
        """A moment carried as an ISO string (flashed data), back to a datetime."""
        return datetime.fromisoformat(value)

    @app.template_filter("seconds_since")
    def seconds_since(moment):
        """How long ago, in whole seconds (flashed data carries ISO strings); the `ago` macro words it."""
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        return max(0, int((app.config["CLOCK"]() - moment).total_seconds()))
