"""Keyed hashes: addresses, browser tokens and captcha answers are stored only as these."""

from __future__ import annotations

import hmac
from hashlib import sha256


def keyed_hash(pepper: str, value: str) -> str:
    return hmac.new(pepper.encode(), value.encode(), sha256).hexdigest()


def same_hash(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected, given)
