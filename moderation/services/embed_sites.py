"""Which web pages may frame a site's embedded comment section (/embed/<key>).

A site (the name its API keys carry) lists origins, `https://news.example` or
`http://localhost:8080`: exactly a scheme, a host and an optional port, as the browser compares
them for Content-Security-Policy `frame-ancestors`. An article belongs to the site whose key created
it (`Article.site`); the operator's EMBED_ALLOWED_ORIGINS apply to every article. No origin at all
means `frame-ancestors 'none'`, as every other page has.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from moderation.models import Article, EmbedSite
from moderation.services.api_keys import SITE_NAME, site_name
from moderation.services.audit import Actor, AuditAction, record

MAX_ORIGINS = 20  # per site: a header, not a directory
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class OriginProblem(enum.StrEnum):
    SITE_NAME = "site_name"
    ORIGIN = "origin"  # not scheme://host[:port] with http or https
    TOO_MANY = "too_many"


class OriginError(ValueError):
    """`values`: each line refused, for a page to show apart; `value` says them in one string."""

    def __init__(self, problem: OriginProblem, *values: str):
        value = " ".join(values)
        super().__init__(f"{problem.value}: {value}" if value else problem.value)
        self.problem, self.value, self.values = problem, value, values


def normalise_origin(raw: str) -> str | None:
    """`https://News.Example:443/` → `https://news.example`; None when it is not an origin a
    browser could send (a path, a query, credentials, a wildcard, another scheme, a bad host)."""
    text = raw.strip()
    if not text or any(char.isspace() or char in ";,'\"*\\" for char in text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if (parts.scheme.lower() not in ("http", "https") or parts.username is not None or parts.password is not None
            or parts.path not in ("", "/") or parts.query or parts.fragment or not _HOST.match(host)):
        return None
    scheme = parts.scheme.lower()
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def parse_origins(values: Iterable[str]) -> list[str]:
    """Origins given one a line (or as several values): normalised, without repeats, sorted. Every
    line that is not an origin is named in the error (up to five), not only the first."""
    found: set[str] = set()
    refused: list[str] = []
    for value in values:
        for line in value.splitlines():
            if not line.strip():
                continue
            origin = normalise_origin(line)
            if origin is None:
                refused.append(line.strip()[:200])
            else:
                found.add(origin)
    if refused:
        raise OriginError(OriginProblem.ORIGIN, *refused[:5])
    if len(found) > MAX_ORIGINS:
        raise OriginError(OriginProblem.TOO_MANY)
    return sorted(found)


def all_sites(db: Session) -> list[EmbedSite]:
    return list(db.scalars(select(EmbedSite).order_by(EmbedSite.site)))


def every_sites_origins(db: Session) -> list[str]:
    """The origins any site allows (for a frame that names no article of theirs: an unknown key)."""
    return sorted({origin for origins in db.scalars(select(EmbedSite.origins)) for origin in origins.split("\n") if origin})


def set_origins(db: Session, site: str, origins: Iterable[str], *, actor: Actor, now: datetime) -> EmbedSite | None:
    """Replace the origins `site` allows (none: the row goes). The caller commits."""
    site = site_name(site)
    if not SITE_NAME.match(site):
        raise OriginError(OriginProblem.SITE_NAME)
    allowed = parse_origins(origins)
    row = db.scalar(select(EmbedSite).where(EmbedSite.site == site))
    if row is not None and row.origin_list == allowed:
        return row
    if not allowed:
        if row is not None:
            db.delete(row)
    elif row is None:
        row = EmbedSite(site=site, origins="\n".join(allowed), updated_at=now)
        db.add(row)
    else:
        row.origins, row.updated_at = "\n".join(allowed), now
    db.flush()
    record(db, actor, AuditAction.EMBED_ORIGINS, now=now, note=f"{site}: {' '.join(allowed) or '-'}")
    return row if allowed else None


@dataclass(frozen=True)
class EmbedTarget:
    """What /embed/<key> needs before it renders: the article's identity and who may frame it."""

    id: int
    slug: str
    revision: int
    site_origins: tuple[str, ...]


# One indexed query per embed request, whether the page then comes from the cache or not: the origins
# are read with the article's revision, so a change of either is seen by the next request.
_TARGET = (
    select(Article.id, Article.slug, Article.revision, EmbedSite.origins)
    .outerjoin(EmbedSite, EmbedSite.site == Article.site)
    .where(Article.key == bindparam("key"))
)


def embed_target(db: Session, key: str) -> EmbedTarget | None:
    row: Row | None = db.connection().execute(_TARGET, {"key": key}).one_or_none()
    if row is None:
        return None
    origins = tuple(line for line in (row.origins or "").split("\n") if line)
    return EmbedTarget(row.id, row.slug, row.revision, origins)


def frame_ancestors(site_origins: Iterable[str], operator_origins: Iterable[str]) -> str:
    """The CSP directive's value: the origins, or 'none' when nobody is allowed."""
    origins = sorted(set(site_origins) | set(operator_origins))
    return " ".join(origins) if origins else "'none'"
