"""Cells of the CSV files the moderation pages offer (the audit log, the dashboard's tables)."""

from __future__ import annotations

# What a spreadsheet may run as a formula when a cell starts with it, half- and full-width.
FORMULA_STARTERS = frozenset("=+-@\t\r＝＋－＠﹦﹢﹣")


def csv_safe(value) -> str:
    """Text a spreadsheet would run as a formula gets a leading quote (CSV injection), also when
    the formula starter comes after leading spaces."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    first = text.lstrip(" \u3000")[:1]
    return "'" + text if first and (first in FORMULA_STARTERS or text[:1] in FORMULA_STARTERS) else text
