"""Issue, render and check captcha challenges. The answer never leaves the server.

A page carries only a random challenge id. The challenge itself (answer from
CAPTCHA_TEXT_FACTORY, stored as a keyed hash) is created when its image or audio is first
requested, so readers who never comment cost no CPU and no database write. Each challenge
has one medium; switching to audio takes a new challenge. A check consumes the challenge,
right or wrong, and failures are counted per browser and per address.
"""

from __future__ import annotations

import enum
import io
import re
import secrets
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources

from captcha.audio import AudioCaptcha
from captcha.image import ImageCaptcha
from PIL import Image
from PIL.Image import Resampling, Transform
from PIL.ImageDraw import Draw
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from moderation import metrics
from moderation.models import CaptchaChallenge, CaptchaFailure, CaptchaMedium
from moderation.screening.matching import Thresholds
from moderation.screening.pipeline import is_trusted
from moderation.services.author_history import author_facts
from moderation.services.hashing import keyed_hash, same_hash
from moderation.services.rate_limits import record_captcha_failure

CHALLENGE_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")


class CaptchaOutcome(enum.StrEnum):
    PASSED = "passed"
    WRONG = "wrong"
    MISSING = "missing"
    UNKNOWN = "unknown"
    OTHER_BROWSER = "other_browser"
    ALREADY_USED = "already_used"
    EXPIRED = "expired"
    TOO_FAST = "too_fast"


# Not counted as a wrong answer: nothing was guessed. UNKNOWN is a challenge never issued to this
# browser, most often one whose image did not load (a 503 or a rate limit on the image): no answer
# could be right, so not counting it lets no guess through.
NO_WRONG_ANSWER = frozenset({CaptchaOutcome.EXPIRED, CaptchaOutcome.ALREADY_USED, CaptchaOutcome.UNKNOWN})


class ChallengeUnavailable(Exception):
    """The media of this challenge cannot be served to this browser (any reason; say no more)."""


def new_challenge_id() -> str:
    return secrets.token_urlsafe(24)


def normalize_answer(answer: str) -> str:
    """Full-width ＡＢ１２ → AB12, case and spaces ignored."""
    return "".join(unicodedata.normalize("NFKC", answer).split()).upper()


def answer_hash(pepper: str, challenge_id: str, answer: str) -> str:
    return keyed_hash(pepper, f"{challenge_id}:{normalize_answer(answer)}")


# WCAG 2 asks 3:1 of graphics that must be read; the letters get at least 4.5:1, the library's own
# colours gave 1.8 to 3.5:1. The distortion, the noise curve and dots still make the puzzle.
MIN_LETTER_CONTRAST = 4.5


def relative_luminance(colour: tuple[int, ...]) -> float:
    def channel(value: int) -> float:
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in colour[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: tuple[int, ...], second: tuple[int, ...]) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def captcha_colours() -> tuple[tuple[int, int, int], tuple[int, int, int, int]]:
    """A random light background and a random opaque letter colour at least 4.5:1 against it."""
    background = tuple(238 + secrets.randbelow(18) for _ in range(3))
    while True:
        letters = tuple(secrets.randbelow(140) for _ in range(3))
        if contrast_ratio(letters, background) >= MIN_LETTER_CONTRAST and sum(letters) >= 30:  # not black: the mask would drop it
            return background, (*letters, 255)


CAPTCHA_WIDTH, CAPTCHA_HEIGHT = 200, 70
GLYPH_GAP = 4  # pixels at least between two letters' boxes, and between a box and the edge


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    right: int
    bottom: int


class _LegibleCaptcha(ImageCaptcha):
    """Letters that stay themselves. The library tilts letters by up to 30° and warps them into a box
    the tilt no longer fits (a 7 lost its bar and read as 1 or >, first letters were clipped), and
    pulls each letter up to a quarter of a width into its neighbour (VM and X8 merged). Here a letter
    is tilted by at most 12° and warped a little inside a canvas that holds it whole, then cut to its
    own ink; the letters are set side by side with a gap between their boxes and inside the image.
    Each letter is pasted whole (not through a mask of its own brightness, which faded dark letters)
    in the colour chosen for it."""

    character_rotate = (-12, 12)
    warp = 0.12  # corners move by up to this share of the letter's size

    def __init__(self):
        super().__init__(width=CAPTCHA_WIDTH, height=CAPTCHA_HEIGHT, font_sizes=(46, 50, 54))

    def _draw_character(self, c, draw, color):
        font = secrets.choice(self.truefonts)
        left, top, right, bottom = font.getbbox(c)
        width, height = right - left, bottom - top
        # A margin of half the letter's larger side holds it whole through the tilt and the warp. The
        # rotation and the warp cost what their canvas holds: with the margin of a whole side they
        # took two thirds of an image's time, for pixels that stayed empty.
        pad = max(width, height) // 2
        letter = Image.new("L", (width + 2 * pad, height + 2 * pad))  # the letter's ink, as a mask
        Draw(letter).text((pad - left, pad - top), c, font=font, fill=255, stroke_width=1, stroke_fill=255)  # bolder
        low, high = self.character_rotate
        letter = letter.rotate(low + secrets.randbelow(1001) / 1000 * (high - low), Resampling.BICUBIC, expand=True)
        w, h = letter.size
        # The corners move the canvas's edges, so a letter is bent by their reach over the canvas's
        # size: the reach shrinks with the canvas, and the letters are warped as much as they were on
        # a canvas with a margin of a whole side.
        whole = 2 * max(width, height)

        def jitter(size: int) -> int:
            reach = int(size * self.warp * (size + 2 * pad) / (size + whole))
            return secrets.randbelow(2 * reach + 1) - reach

        corners = (jitter(width), jitter(height), jitter(width), h + jitter(height),
                   w + jitter(width), h + jitter(height), w + jitter(width), jitter(height))
        letter = letter.transform((w, h), Transform.QUAD, corners, Resampling.BICUBIC)
        return letter.crop(letter.getbbox())

    def letters_and_boxes(self, chars: str, color) -> tuple[Image.Image, list[Box]]:
        """The letters' ink as a mask of the image's size, and each letter's box (tests measure them)."""
        while True:
            letters = [self._draw_character(char, None, color) for char in chars]
            room = CAPTCHA_WIDTH - sum(letter.width for letter in letters) - GLYPH_GAP * (len(letters) + 1)
            if room >= 0 and all(letter.height <= CAPTCHA_HEIGHT - 2 * GLYPH_GAP for letter in letters):
                break
            self._font_sizes = tuple(size - 2 for size in self._font_sizes)  # too big: smaller type
            self._truefonts = []
        # The spare width goes, at random, to the margins and the gaps between letters.
        cuts = sorted(secrets.randbelow(room + 1) for _ in range(len(letters)))
        shares = [after - before for before, after in zip([0, *cuts], [*cuts, room], strict=True)]
        layer = Image.new("L", (CAPTCHA_WIDTH, CAPTCHA_HEIGHT))
        boxes, x = [], 0
        for letter, share in zip(letters, shares, strict=False):  # the last share is the right margin
            x += GLYPH_GAP + share
            y = GLYPH_GAP + secrets.randbelow(CAPTCHA_HEIGHT - 2 * GLYPH_GAP - letter.height + 1)
            layer.paste(letter, (x, y))
            boxes.append(Box(x, y, x + letter.width, y + letter.height))
            x += letter.width
        return layer, boxes

    def create_captcha_image(self, chars, color, background):
        image = Image.new("RGB", (CAPTCHA_WIDTH, CAPTCHA_HEIGHT), background)
        ink, _ = self.letters_and_boxes(chars, color)
        # Solid strokes in the one colour; only the outermost antialiasing is blended.
        image.paste(color[:3], (0, 0, CAPTCHA_WIDTH, CAPTCHA_HEIGHT), ink.point(lambda level: 255 if level >= 96 else level * 2))
        return image


def render_media(medium: CaptchaMedium, text: str, *, voice: str | None = None) -> bytes:
    """The image, or the audio read by `voice` (a folder of clips per character; None: the
    library's own English clips)."""
    if medium is CaptchaMedium.IMAGE:
        background, letters = captcha_colours()
        buffer = io.BytesIO()
        _LegibleCaptcha().write(text, buffer, format="png", bg_color=background, fg_color=letters)
        return buffer.getvalue()
    return bytes(audio_captcha(voice).generate(text.upper()))


@lru_cache(maxsize=4)
def audio_captcha(voice: str | None) -> AudioCaptcha:
    """One reader of clips per voice, loaded once."""
    return AudioCaptcha(voicedir=voice)


MANDARIN_VOICE = str(resources.files("moderation").joinpath("data/captcha_voice_cmn"))


def voice_for(language_tag: str) -> str | None:
    """Mandarin clips (espeak-ng's `cmn`, scripts/mandarin_captcha_voice.py) for Chinese readers."""
    return MANDARIN_VOICE if language_tag.startswith("zh") else None


def needed_for(db: Session, author_hash: str | None, *, limits: Thresholds, config: Mapping, now: datetime) -> bool:
    """Does this author have to solve a captcha? Not a returning author whom the trust ramp trusts
    (`CAPTCHA_SKIP_FOR_TRUSTED`): their last decided comments were approved, none refused. One
    indexed query, only for a reader who holds an author token."""
    if author_hash is None or not config["CAPTCHA_SKIP_FOR_TRUSTED"]:
        return True
    # Comments still waiting for a decision neither earn nor lose trust here: a trusted author's
    # second comment of the day needs no captcha either (screening's rate limits still apply).
    decided = author_facts(db, author_hash=author_hash, ip_hash="", now=now, limits=limits, decided_only=True)
    return not is_trusted(decided, limits, now)


def challenge_media(
    db: Session,
    challenge_id: str,
    medium: CaptchaMedium,
    *,
    browser_nonce: str | None,
    config: Mapping,
    now: datetime,
    render: Callable[[CaptchaMedium, str], bytes] = render_media,
    purge: bool = True,
) -> bytes:
    """The image or audio of a challenge, creating the challenge on first request (flushed; the
    caller commits)."""
    if not browser_nonce or not CHALLENGE_ID.match(challenge_id or ""):
        raise ChallengeUnavailable
    challenge = db.get(CaptchaChallenge, challenge_id)
    if challenge is None:
        text = config["CAPTCHA_TEXT_FACTORY"]()
        challenge = CaptchaChallenge(
            id=challenge_id,
            browser_nonce=browser_nonce,
            medium=medium,
            answer_hash=answer_hash(config["IP_PEPPER"], challenge_id, text),
            media=render(medium, text),
            issued_at=now,
        )
        db.add(challenge)
        if purge:
            _purge_old(db, config, now)
        db.flush()
        return challenge.media
    if (
        challenge.browser_nonce != browser_nonce
        or challenge.medium is not medium
        or challenge.used_at is not None
        or _expired(challenge.issued_at, config, now)
    ):
        raise ChallengeUnavailable
    return challenge.media


def check_answer(
    db: Session,
    challenge_id: str | None,
    answer: str | None,
    *,
    browser_nonce: str | None,
    ip_hash: str,
    config: Mapping,
    now: datetime,
) -> CaptchaOutcome:
    """Consume the challenge and tell whether the answer is right; failures are recorded (not an
    answer given after the challenge expired, nor one whose challenge another sending spent: a slow
    writer and a form sent twice gave no wrong answer).

    Flushes: the caller commits, with the comment when the answer passed, so that a posting is
    one transaction.
    """
    outcome = _consume_and_judge(db, challenge_id, answer, browser_nonce, config, now)
    if outcome is not CaptchaOutcome.PASSED:
        if outcome not in NO_WRONG_ANSWER:
            record_captcha_failure(db, browser_nonce=browser_nonce, ip_hash=ip_hash, reason=outcome.value, now=now)
        metrics.CAPTCHA_FAILURES.labels(outcome.value).inc()
    db.flush()
    return outcome


# Run on every posting: built once, executed with parameters.
_CONSUME = (
    update(CaptchaChallenge)
    .where(
        CaptchaChallenge.id == bindparam("challenge_id"),
        CaptchaChallenge.browser_nonce == bindparam("nonce"),
        CaptchaChallenge.used_at.is_(None),
    )
    .values(used_at=bindparam("now"))
    .returning(CaptchaChallenge.answer_hash, CaptchaChallenge.issued_at)
)
_OWNER = select(CaptchaChallenge.browser_nonce).where(CaptchaChallenge.id == bindparam("challenge_id"))


def _consume_and_judge(db, challenge_id, answer, browser_nonce, config, now) -> CaptchaOutcome:
    if not challenge_id or not CHALLENGE_ID.match(challenge_id) or not browser_nonce:
        return CaptchaOutcome.UNKNOWN
    # Single use, also under concurrent submissions: only one UPDATE can flip used_at. A challenge
    # of another browser is left unused. Only a refusal needs a second look, to say why.
    connection = db.connection()
    consumed = connection.execute(
        _CONSUME, {"challenge_id": challenge_id, "nonce": browser_nonce, "now": now}
    ).one_or_none()
    if consumed is None:
        owner = connection.execute(_OWNER, {"challenge_id": challenge_id}).scalar_one_or_none()
        if owner is None:
            return CaptchaOutcome.UNKNOWN
        return CaptchaOutcome.OTHER_BROWSER if owner != browser_nonce else CaptchaOutcome.ALREADY_USED
    return _judge(consumed, challenge_id, answer, config, now)


def _judge(challenge, challenge_id: str, answer: str | None, config: Mapping, now: datetime) -> CaptchaOutcome:
    """The answer against a challenge row (its answer_hash and issued_at), consumed or only read."""
    if _expired(challenge.issued_at, config, now):
        return CaptchaOutcome.EXPIRED
    if now - challenge.issued_at < timedelta(seconds=config["CAPTCHA_MIN_SECONDS"]):
        return CaptchaOutcome.TOO_FAST
    if not answer or not normalize_answer(answer):
        return CaptchaOutcome.MISSING
    expected = answer_hash(config["IP_PEPPER"], challenge_id, answer)
    if not same_hash(expected, challenge.answer_hash):
        return CaptchaOutcome.WRONG
    return CaptchaOutcome.PASSED


_PEEK = select(CaptchaChallenge.answer_hash, CaptchaChallenge.issued_at).where(
    CaptchaChallenge.id == bindparam("challenge_id"), CaptchaChallenge.browser_nonce == bindparam("nonce"),
    CaptchaChallenge.used_at.is_(None))
_TAKE = (
    update(CaptchaChallenge)
    .where(CaptchaChallenge.id == bindparam("challenge_id"), CaptchaChallenge.used_at.is_(None))
    .values(used_at=bindparam("now"))
)


def would_pass(db: Session, challenge_id: str | None, answer: str | None, *, browser_nonce: str | None,
               config: Mapping, now: datetime) -> bool:
    """Whether `check_answer` would pass, by a read that consumes nothing: the poster's reads and
    screening then run before any write, and `take()` consumes the challenge in the posting's
    closing burst of writes (on SQLite the first write takes the database's write lock, held until
    the commit). Anything but a pass goes through `check_answer`, which consumes and records it."""
    if not challenge_id or not CHALLENGE_ID.match(challenge_id) or not browser_nonce or not answer:
        return False
    row = db.connection().execute(_PEEK, {"challenge_id": challenge_id, "nonce": browser_nonce}).one_or_none()
    return row is not None and _judge(row, challenge_id, answer, config, now) is CaptchaOutcome.PASSED


def take(db: Session, challenge_id: str, *, now: datetime) -> bool:
    """Consume a challenge `would_pass` approved: False when another sending used it meanwhile (that
    sending then is the one that counts; this one goes through `check_answer`, as already used)."""
    return db.connection().execute(_TAKE, {"challenge_id": challenge_id, "now": now}).rowcount == 1


def _expired(issued_at: datetime, config: Mapping, now: datetime) -> bool:
    return now - issued_at > timedelta(seconds=config["CAPTCHA_EXPIRY_SECONDS"])


def _purge_old(db: Session, config: Mapping, now: datetime) -> None:
    """Challenges and failures older than twice their useful life go; cheap thanks to the indexes."""
    horizon = now - 2 * timedelta(
        seconds=max(config["CAPTCHA_EXPIRY_SECONDS"], config["CAPTCHA_FAILURE_WINDOW_SECONDS"])
    )
    db.execute(delete(CaptchaChallenge).where(CaptchaChallenge.issued_at < horizon))
    db.execute(delete(CaptchaFailure).where(CaptchaFailure.failed_at < horizon))


__all__ = [
    "CaptchaOutcome",
    "ChallengeUnavailable",
    "challenge_media",
    "check_answer",
    "new_challenge_id",
    "normalize_answer",
]
