"""Blueprint for moderators and admins: the dashboard (charts with their tables) and each table as CSV.
Moderators see everything but the figures per moderator, which are the admins'."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, get_template_attribute, render_template, request

from moderation.clock import now
from moderation.extensions import db
from moderation.models import Role
from moderation.services import dashboard as figures
from moderation.web import charts, guards
from moderation.web.spreadsheets import csv_safe

bp = Blueprint("dashboard", __name__, url_prefix="/moderation/dashboard")
guards.protect(bp, guards.require_moderator)

TABLES = ("outcomes", "queue", "decision_times", "moderators", "reports", "rules", "articles", "held_share")


def _span() -> tuple[figures.Span, str | None]:
    """The period asked for; an unknown one falls back to 24 hours and is said on the page."""
    raw = request.args.get("range", figures.Span.DAY.value)
    try:
        return figures.Span(raw), None
    except ValueError:
        return figures.Span.DAY, raw[:40]


def _is_admin() -> bool:
    return guards.current_moderator().role is Role.ADMIN


def _figures(span: figures.Span) -> tuple[figures.Dashboard, ZoneInfo]:
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    found = figures.dashboard(db.session, span, now=now(), zone=zone, per_moderator=_is_admin(),
                              top=int(current_app.config["DASHBOARD_TOP"]))
    return found, zone


def _slot_label(start, hourly: bool) -> str:
    return start.strftime("%H:00") if hourly else start.strftime("%m-%d")


@bp.get("/")
def dashboard_page():
    span, unknown = _span()
    found, _ = _figures(span)
    hourly = found.period.hourly
    labels = [_slot_label(start, hourly) for start in found.period.slots]
    reasons = get_template_attribute("moderator/labels.html", "REPORT_REASON")  # worded as the tables are
    drawn = {
        "outcomes": charts.stacked_bars(labels, [[row.approved for row in found.outcomes],
                                                 [row.pending for row in found.outcomes],
                                                 [row.rejected for row in found.outcomes],
                                                 [row.spam for row in found.outcomes]]),
        "queue": charts.lines(labels, [[row.pending for row in found.queue]]),
        "queue_age": charts.lines(labels, [[row.oldest_wait_minutes for row in found.queue]]),
        "decision_times": charts.lines(labels, [
            [None if row.times.median_seconds is None else row.times.median_seconds / 60 for row in found.decision_times],
            [None if row.times.p90_seconds is None else row.times.p90_seconds / 60 for row in found.decision_times]]),
        "reports": charts.stacked_bars([str(reasons.get(row.reason, row.reason)) for row in found.reports],
                                       [[row.open for row in found.reports], [row.kept for row in found.reports],
                                        [row.removed for row in found.reports]]),
        "rules": charts.horizontal_bars([row.hits for row in found.rules]),
        "articles": charts.horizontal_bars([row.comments for row in found.articles_by_comments]),
        "held_share": charts.horizontal_bars([row.held_share * 100 for row in found.articles_by_held_share]),
    }
    return render_template("moderator/dashboard.html", found=found, charts=drawn, spans=list(figures.Span),
                           span=span, unknown_span=unknown, slot_labels=labels)


@bp.get("/<name>.csv")
def table_csv(name: str):
    if name not in TABLES or (name == "moderators" and not _is_admin()):
        abort(404)
    span, _ = _span()
    found, zone = _figures(span)
    columns, rows = _table(name, found)

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_safe(value) for value in row])
    body = "\ufeff" + buffer.getvalue()  # BOM: spreadsheet programs then read the Chinese correctly
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=dashboard-{name}-{span.value}.csv"})


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _table(name: str, found: figures.Dashboard) -> tuple[tuple[str, ...], list[tuple]]:
    """A table's columns (codes, as the audit CSV has them) and rows, for the CSV."""
    words = get_template_attribute("moderator/labels.html", "REPORT_REASON")
    if name == "outcomes":
        return (("slot_start", "published", "held", "rejected", "spam", "total"),
                [(row.start.isoformat(), row.approved, row.pending, row.rejected, row.spam, row.total)
                 for row in found.outcomes])
    if name == "queue":
        return (("slot_start", "pending_max", "oldest_wait_minutes_max"),
                [(row.start.isoformat(), row.pending, row.oldest_wait_minutes) for row in found.queue])
    if name == "decision_times":
        return (("slot_start", "decisions", "median_seconds", "p90_seconds"),
                [(row.start.isoformat(), row.times.decisions, _seconds(row.times.median_seconds),
                  _seconds(row.times.p90_seconds)) for row in found.decision_times])
    if name == "moderators":
        return (("moderator", "decisions", "median_seconds", "p90_seconds"),
                [(row.name, row.times.decisions, _seconds(row.times.median_seconds), _seconds(row.times.p90_seconds))
                 for row in found.moderator_times or []])
    if name == "reports":
        return (("reason", "reason_label", "open", "kept", "removed", "total"),
                [(row.reason, str(words.get(row.reason, row.reason)), row.open, row.kept, row.removed, row.total)
                 for row in found.reports])
    if name == "rules":
        return (("rule_id", "term", "hits", "approved", "false_hit_rate", "reported_wrong"),
                [(row.rule_id, row.term, row.hits, row.approved, _rate(row.false_hit_rate), row.reported_wrong)
                 for row in found.rules])
    rows = found.articles_by_comments if name == "articles" else found.articles_by_held_share
    return (("article_id", "title", "comments", "held_on_arrival", "held_share"),
            [(row.article_id, row.title, row.comments, row.held_on_arrival, f"{row.held_share:.4f}") for row in rows])
