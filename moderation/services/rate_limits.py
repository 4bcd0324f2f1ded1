"""Failure-based throttles: wrong captcha answers and failed sign-ins.

Both count failures in a sliding window (rows in `captcha_failure` and `login_attempt`) and make
only the one who failed wait, with a delay that doubles after each further failure. Nobody is
locked out: a browser or an address that has not been failing is never made to wait.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from moderation.models import CaptchaFailure, LoginAttempt


def seconds_until(moment: datetime, now: datetime) -> int:
    return max(0, math.ceil((moment - now).total_seconds()))


def growing_wait(failures: int, *, free: int, last: datetime | None, now: datetime,
                 base: timedelta, longest: timedelta) -> int:
    """Seconds left of the delay after `failures` (none for the first `free` of them): `base`,
    doubled with each failure past the free ones, at most `longest`."""
    if last is None or failures < free:
        return 0
    delay = min(longest, base * 2 ** (failures - free))
    return seconds_until(last.replace(tzinfo=now.tzinfo) + delay, now)


# --- sign-in ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoginLimits:
    free_failures: int = 5  # of one account from one address, before delays start
    address_failures: int = 30  # from one address across all names (stuffing many accounts)
    account_alarm: int = 20  # of one account from anywhere: then delays start at the first failure
    base_delay: timedelta = timedelta(seconds=30)  # doubles with each further failure
    window: timedelta = timedelta(minutes=15)  # failures older than this are forgotten; also the longest delay

    @classmethod
    def from_config(cls, config: Mapping) -> LoginLimits:
        return cls(
            free_failures=config["LOGIN_FREE_FAILURES"], address_failures=config["LOGIN_ADDRESS_FAILURES"],
            account_alarm=config["LOGIN_ACCOUNT_ALARM"], base_delay=config["LOGIN_BASE_DELAY"],
            window=config["LOGIN_WINDOW"],
        )


def login_retry_after(db: Session, name_key: str, ip_hash: str, *, now: datetime, limits: LoginLimits) -> int:
    """Seconds this address must wait before trying this account again (0: now).

    An address that keeps failing for one account waits longer after each failure; an address
    that fails across many names waits too; an account under attack from many addresses gives
    every address that has failed for it a delay from its first failure.
    """
    key = name_key[:64]
    pair = (LoginAttempt.name_key == key) & (LoginAttempt.ip_hash == ip_hash)
    address = LoginAttempt.ip_hash == ip_hash
    account = LoginAttempt.name_key == key
    pair_failures, pair_last, address_failures, address_last, account_failures = db.execute(
        select(
            func.count().filter(pair), func.max(LoginAttempt.attempted_at).filter(pair),
            func.count().filter(address), func.max(LoginAttempt.attempted_at).filter(address),
            func.count().filter(account),
        ).where(LoginAttempt.attempted_at > now - limits.window, LoginAttempt.succeeded.is_(False),
                address | account)
    ).one()
    free = 1 if account_failures >= limits.account_alarm else limits.free_failures
    delays = {"base": limits.base_delay, "longest": limits.window, "now": now}
    return max(
        growing_wait(pair_failures, free=free, last=pair_last, **delays),
        growing_wait(address_failures, free=limits.address_failures, last=address_last, **delays),
    )


def record_login_attempt(db: Session, name_key: str, ip_hash: str, *, now: datetime, succeeded: bool) -> None:
    db.add(LoginAttempt(name_key=name_key[:64], ip_hash=ip_hash, attempted_at=now, succeeded=succeeded))


# --- captcha answers -------------------------------------------------------------------------

# Failures in the window: per address, and per browser (count, first and last), in one query.
_CAPTCHA_FAILURES = select(
    func.count().filter(CaptchaFailure.ip_hash == bindparam("ip_hash")),
    func.count().filter(CaptchaFailure.browser_nonce == bindparam("nonce")),
    func.min(CaptchaFailure.failed_at).filter(CaptchaFailure.browser_nonce == bindparam("nonce")),
    func.max(CaptchaFailure.failed_at).filter(CaptchaFailure.browser_nonce == bindparam("nonce")),
).where(
    CaptchaFailure.failed_at > bindparam("since"),
    or_(CaptchaFailure.ip_hash == bindparam("ip_hash"), CaptchaFailure.browser_nonce == bindparam("nonce")),
)


def captcha_retry_after(
    db: Session, *, browser_nonce: str | None, ip_hash: str, config: Mapping, now: datetime
) -> int | None:
    """Seconds this browser must wait before its next answer is checked, else None (one query).

    Per browser first: after CAPTCHA_MAX_FAILURES in the window it waits out the window. An address
    over CAPTCHA_MAX_FAILURES_PER_IP (a school or office shares one) never blocks a browser that
    has not failed; a browser there that has failed waits CAPTCHA_SHARED_ADDRESS_DELAY_SECONDS,
    doubling with each of its failures.
    """
    window = timedelta(seconds=config["CAPTCHA_FAILURE_WINDOW_SECONDS"])
    address_failures, browser_failures, first, last = db.connection().execute(
        _CAPTCHA_FAILURES, {"ip_hash": ip_hash, "nonce": browser_nonce or "", "since": now - window}
    ).one()
    if not browser_nonce or not browser_failures:
        return None
    if browser_failures >= config["CAPTCHA_MAX_FAILURES"]:
        return seconds_until(first.replace(tzinfo=now.tzinfo) + window, now) or None
    if address_failures >= config["CAPTCHA_MAX_FAILURES_PER_IP"]:
        wait = growing_wait(browser_failures, free=1, last=last, now=now, longest=window,
                            base=timedelta(seconds=config["CAPTCHA_SHARED_ADDRESS_DELAY_SECONDS"]))
        return wait or None
    return None


def record_captcha_failure(db: Session, *, browser_nonce: str | None, ip_hash: str, reason: str,
                           now: datetime) -> None:
    db.add(CaptchaFailure(browser_nonce=browser_nonce or "", ip_hash=ip_hash, reason=reason, failed_at=now))
