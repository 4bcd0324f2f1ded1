"""Captcha challenges: lazy creation, single use, expiry, speed, other browsers, throttling."""

import io
import re
import string

import pytest

from moderation.config import CAPTCHA_ALPHABET, random_captcha_text
from moderation.models import CaptchaChallenge, CaptchaMedium
from moderation.services import captcha, rate_limits
from moderation.services.captcha import CaptchaOutcome
from tests.conftest import CAPTCHA_TEXT, make_page


def fake_render(medium, text):
    return f"{medium.value}:{len(text)}".encode()


def issue(db, app, clock, nonce="browser-a", medium=CaptchaMedium.IMAGE):
    challenge_id = captcha.new_challenge_id()
    captcha.challenge_media(
        db.session, challenge_id, medium, browser_nonce=nonce, config=app.config, now=clock(), render=fake_render
    )
    return challenge_id


def check(db, app, clock, challenge_id, answer=CAPTCHA_TEXT, nonce="browser-a"):
    return captcha.check_answer(
        db.session, challenge_id, answer, browser_nonce=nonce, ip_hash="ip", config=app.config, now=clock()
    )


def test_alphabet_has_no_ambiguous_characters():
    # 0/O/Q round, 1/I/L/7 strokes (a tilted 7 read as 1 or >), and one of each swapped pair.
    assert not set("0OQ1IL7") & set(CAPTCHA_ALPHABET)
    for pair in ("B8", "G6", "S5", "Z2", "UV", "VY"):
        assert not set(pair) <= set(CAPTCHA_ALPHABET), pair
    assert all(char in CAPTCHA_ALPHABET for char in random_captcha_text(50))


def test_answer_is_stored_only_as_a_keyed_hash(db, app, clock):
    challenge_id = issue(db, app, clock)
    stored = db.session.get(CaptchaChallenge, challenge_id)
    assert CAPTCHA_TEXT not in stored.answer_hash
    assert re.fullmatch(r"[0-9a-f]{64}", stored.answer_hash)


def test_right_answer_passes_once(db, app, clock):
    challenge_id = issue(db, app, clock)
    assert check(db, app, clock, challenge_id) is CaptchaOutcome.PASSED
    assert check(db, app, clock, challenge_id) is CaptchaOutcome.ALREADY_USED


def test_wrong_answer_consumes_the_challenge(db, app, clock):
    challenge_id = issue(db, app, clock)
    assert check(db, app, clock, challenge_id, answer="WRNG") is CaptchaOutcome.WRONG
    assert check(db, app, clock, challenge_id) is CaptchaOutcome.ALREADY_USED


@pytest.mark.parametrize("answer", ["k7px", "Ｋ７ＰＸ", " K 7 P X ", "ｋ７ｐｘ"])
def test_answer_is_compared_after_nfkc_without_case_or_spaces(db, app, clock, answer):
    assert check(db, app, clock, issue(db, app, clock), answer=answer) is CaptchaOutcome.PASSED


@pytest.mark.parametrize("answer", ["", "   ", None])
def test_missing_answer_fails(db, app, clock, answer):
    assert check(db, app, clock, issue(db, app, clock), answer=answer) is CaptchaOutcome.MISSING


def test_expired_challenge_fails(db, app, clock):
    challenge_id = issue(db, app, clock)
    clock.advance(seconds=app.config["CAPTCHA_EXPIRY_SECONDS"] + 1)
    assert check(db, app, clock, challenge_id) is CaptchaOutcome.EXPIRED


def test_answer_just_before_expiry_passes(db, app, clock):
    challenge_id = issue(db, app, clock)
    clock.advance(seconds=app.config["CAPTCHA_EXPIRY_SECONDS"] - 1)
    assert check(db, app, clock, challenge_id) is CaptchaOutcome.PASSED


def test_answer_faster_than_a_person_fails(db, app, clock):
    app.config["CAPTCHA_MIN_SECONDS"] = 2
    challenge_id = issue(db, app, clock)
    clock.advance(seconds=1)
    assert check(db, app, clock, challenge_id) is CaptchaOutcome.TOO_FAST
    slower = issue(db, app, clock)
    clock.advance(seconds=2)
    assert check(db, app, clock, slower) is CaptchaOutcome.PASSED


def test_challenge_of_another_browser_fails_and_is_not_burnt(db, app, clock):
    challenge_id = issue(db, app, clock, nonce="browser-a")
    assert check(db, app, clock, challenge_id, nonce="browser-b") is CaptchaOutcome.OTHER_BROWSER
    assert check(db, app, clock, challenge_id, nonce="browser-a") is CaptchaOutcome.PASSED


@pytest.mark.parametrize("challenge_id", ["", None, "x" * 32, "../../etc/passwd", "a" * 500])
def test_unknown_or_malformed_id_fails(db, app, clock, challenge_id):
    assert check(db, app, clock, challenge_id) is CaptchaOutcome.UNKNOWN


def test_media_is_rendered_once_per_challenge(db, app, clock):
    calls = []

    def counting_render(medium, text):
        calls.append(medium)
        return b"wav"

    challenge_id = captcha.new_challenge_id()
    for _ in range(3):
        captcha.challenge_media(
            db.session, challenge_id, CaptchaMedium.AUDIO, browser_nonce="b", config=app.config, now=clock(),
            render=counting_render,
        )
    assert calls == [CaptchaMedium.AUDIO]


@pytest.mark.parametrize(
    "nonce, medium",
    [("browser-b", CaptchaMedium.IMAGE), ("browser-a", CaptchaMedium.AUDIO)],
    ids=["other-browser", "other-medium"],
)
def test_media_is_refused_to_other_browsers_and_media(db, app, clock, nonce, medium):
    challenge_id = issue(db, app, clock)
    with pytest.raises(captcha.ChallengeUnavailable):
        captcha.challenge_media(
            db.session, challenge_id, medium, browser_nonce=nonce, config=app.config, now=clock(), render=fake_render
        )


def test_repeated_failures_are_slowed_down_then_released(db, app, clock):
    limit = app.config["CAPTCHA_MAX_FAILURES"]
    for _ in range(limit):
        check(db, app, clock, issue(db, app, clock), answer="WRNG")

    def wait():
        return rate_limits.captcha_retry_after(
            db.session, browser_nonce="browser-a", ip_hash="ip", config=app.config, now=clock()
        )

    assert 0 < wait() <= app.config["CAPTCHA_FAILURE_WINDOW_SECONDS"] + 1
    clock.advance(seconds=app.config["CAPTCHA_FAILURE_WINDOW_SECONDS"] + 1)
    assert wait() is None


def test_reading_the_page_creates_no_challenge(client, db):
    for _ in range(3):
        client.get("/articles/inspection-testing-excellent-cases")
    assert db.session.query(CaptchaChallenge).count() == 0


def test_page_does_not_carry_the_answer(page, app):
    page.open()
    response = page.load_captcha()
    assert response.status_code == 200
    assert CAPTCHA_TEXT not in page.html
    cookie = page.client.get_cookie("session")
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert CAPTCHA_TEXT not in str(serializer.loads(cookie.value))


def test_image_and_audio_are_real_and_not_cached(page):
    page.open()
    image = page.load_captcha("png")
    assert image.status_code == 200
    assert image.data.startswith(b"\x89PNG")
    assert image.headers["Cache-Control"] == "no-store"
    page.open()
    audio = page.load_captcha("wav")
    assert audio.status_code == 200
    assert audio.data.startswith(b"RIFF")
    assert audio.headers["Cache-Control"] == "no-store"


def test_captcha_image_of_another_browser_is_404(page, app):
    page.open()
    assert page.load_captcha().status_code == 200
    other = make_page(app)
    other.open()
    assert other.client.get(f"/captcha/{page.challenge_id}.png").status_code == 404


def test_audio_endpoint_is_rate_limited(page, app):
    statuses = []
    for _ in range(8):
        page.open()
        statuses.append(page.load_captcha("wav").status_code)
    assert statuses[:6] == [200] * 6
    assert statuses[-1] == 429


def test_the_audio_limit_answer_says_how_long_to_wait(page, app):
    """reader.js reads Retry-After to tell the reader the wait (the player itself would show 0:00)."""
    for _ in range(7):
        page.open()
        response = page.load_captcha("wav")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_new_challenge_endpoint_gives_ids_without_creating_them(client, db):
    response = client.get("/captcha/new")
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert captcha.CHALLENGE_ID.match(body["id"])
    assert body["image"].endswith(".png")
    assert db.session.query(CaptchaChallenge).count() == 0


def test_a_busy_shared_address_never_blocks_a_browser_that_has_not_failed(db, app, clock):
    for index in range(app.config["CAPTCHA_MAX_FAILURES_PER_IP"]):
        check(db, app, clock, issue(db, app, clock, nonce=f"classmate-{index}"), answer="WRNG",
              nonce=f"classmate-{index}")

    def wait(nonce):
        return rate_limits.captcha_retry_after(db.session, browser_nonce=nonce, ip_hash="ip", config=app.config,
                                            now=clock())

    assert not wait("newcomer")  # checked at once, although the address is over its limit
    assert check(db, app, clock, issue(db, app, clock, nonce="newcomer"), nonce="newcomer") is CaptchaOutcome.PASSED
    assert 0 < wait("classmate-3") <= app.config["CAPTCHA_SHARED_ADDRESS_DELAY_SECONDS"] + 1  # short, not a block
    clock.advance(seconds=app.config["CAPTCHA_SHARED_ADDRESS_DELAY_SECONDS"] + 1)
    assert not wait("classmate-3")


def test_captcha_letters_contrast_at_least_4_5_to_1_with_their_background():
    from moderation.services.captcha import MIN_LETTER_CONTRAST, captcha_colours, contrast_ratio

    for _ in range(500):
        background, letters = captcha_colours()
        assert contrast_ratio(background, letters) >= MIN_LETTER_CONTRAST
        assert letters[3] == 255  # opaque: antialiasing is the only blending
    assert round(contrast_ratio((255, 255, 255), (0, 0, 0)), 1) == 21.0
    assert round(contrast_ratio((119, 119, 119), (255, 255, 255)), 2) == 4.48


def test_rendered_captcha_images_keep_their_letter_contrast():
    """Read back from the PNG: the background is the commonest colour; the letters' solid colour is
    4.5:1 against it (the library used to paste letters through a mask of their own brightness,
    which faded dark ones)."""
    from collections import Counter

    from PIL import Image

    from moderation.services.captcha import MIN_LETTER_CONTRAST, contrast_ratio, render_media

    for _ in range(20):
        image = Image.open(io.BytesIO(render_media(CaptchaMedium.IMAGE, "K7PX"))).convert("RGB")
        counts = Counter(image.get_flattened_data())
        [(background, _)] = counts.most_common(1)
        letter_colour = max(counts, key=lambda colour: (counts[colour] >= 50, contrast_ratio(colour, background)))
        assert counts[letter_colour] >= 50 and contrast_ratio(letter_colour, background) >= MIN_LETTER_CONTRAST
        # Letter strokes, edges included, at 3:1 or more: about 17% of the image (the faded letters
        # of the library's own pasting gave none on a light letter colour).
        legible = sum(count for colour, count in counts.items() if contrast_ratio(colour, background) >= 3)
        assert legible > image.width * image.height * 0.08


def test_captcha_letters_stay_whole_and_apart(tmp_path):
    """Measured on the letters' own ink: in 300 images no letter's box touches another's or the
    image's edge (the library merged VM and X8 and clipped first letters), and the letters are big
    enough to read. A sample sheet of 16 is written for a person to look at."""
    from PIL import Image

    from moderation.services.captcha import (
        CAPTCHA_HEIGHT,
        CAPTCHA_WIDTH,
        GLYPH_GAP,
        _LegibleCaptcha,
        render_media,
    )

    for _ in range(300):
        text = random_captcha_text(4)
        _, boxes = _LegibleCaptcha().letters_and_boxes(text, (20, 40, 90, 255))
        assert len(boxes) == 4
        for box in boxes:
            assert box.left >= GLYPH_GAP and box.top >= GLYPH_GAP, (text, box)
            assert box.right <= CAPTCHA_WIDTH - GLYPH_GAP and box.bottom <= CAPTCHA_HEIGHT - GLYPH_GAP, (text, box)
            assert box.bottom - box.top >= 24, (text, box)  # tall enough to tell letters apart
        for before, after in zip(boxes, boxes[1:], strict=False):
            assert after.left - before.right >= GLYPH_GAP, (text, before, after)
    sheet = Image.new("RGB", (CAPTCHA_WIDTH * 4, CAPTCHA_HEIGHT * 4), "white")
    for index in range(16):
        image = Image.open(io.BytesIO(render_media(CaptchaMedium.IMAGE, random_captcha_text(4))))
        sheet.paste(image, ((index % 4) * CAPTCHA_WIDTH, (index // 4) * CAPTCHA_HEIGHT))
    sheet.save(tmp_path / "captcha-sample-sheet.png")
    assert sheet.getbbox() is not None


def test_chinese_readers_hear_the_captcha_in_mandarin_and_english_readers_in_english(page, monkeypatch):
    from moderation.services.captcha import MANDARIN_VOICE

    voices = []
    real = captcha.audio_captcha
    monkeypatch.setattr(captcha, "audio_captcha", lambda voice: voices.append(voice) or real(voice))
    for language, _expected in (("zh-TW", MANDARIN_VOICE), ("zh-CN", MANDARIN_VOICE), ("en-GB", None)):
        page.client.set_cookie("lang", {"zh-TW": "zh-Hant", "zh-CN": "zh-Hans", "en-GB": "en"}[language])
        page.open_form()
        response = page.client.get(f"/captcha/{page.challenge_id}.wav")
        assert response.status_code == 200 and response.data[:4] == b"RIFF"
    assert voices == [MANDARIN_VOICE, MANDARIN_VOICE, None]


def test_the_mandarin_clips_cover_the_alphabet_in_the_library_s_format():
    import wave
    from pathlib import Path

    from moderation.services.captcha import MANDARIN_VOICE, audio_captcha

    for sign in string.ascii_uppercase + string.digits:  # whatever alphabet is configured
        [clip] = Path(MANDARIN_VOICE, sign).glob("*.wav")
        with wave.open(str(clip)) as reader:
            assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 1, 8000)
            assert 0.2 < reader.getnframes() / 8000 < 2  # a spoken sign, not silence or a sentence
    assert set(CAPTCHA_ALPHABET) <= set(audio_captcha(MANDARIN_VOICE).choices)


def test_a_captcha_answered_after_it_expired_is_said_expired_and_not_counted(page, db, clock):
    """A reader who took longer than its life to write: told so, with a new one to answer; a right
    answer given late is no wrong answer."""
    from moderation.models import CaptchaFailure

    page.open_form()
    assert page.load_captcha().status_code == 200
    clock.advance(seconds=601)
    response = page.post(solve=False, body="寫了很久的評論")
    assert response.status_code == 422 and "寫了很久的評論" in page.html
    assert "驗證碼已過期（每張 10 分鐘內有效），請輸入這張新的驗證碼。" in page.html and "請輸入正確驗證碼" not in page.html
    assert db.session.query(CaptchaFailure).count() == 0
    assert page.post(body="寫了很久的評論").status_code == 303  # the new one, answered


def test_a_captcha_spent_by_another_text_is_said_used_and_not_counted(page, db):
    from moderation.models import CaptchaFailure

    page.open_form()
    form = {"csrf_token": page.csrf_token, "captcha_id": page.challenge_id, "captcha_answer": CAPTCHA_TEXT,
            "nickname": "讀者", "action": "post"}
    page.load_captcha()
    first = page.client.post(f"{page.url}/comments", data={**form, "body": "第一段", "submission_key": "a" * 32})
    assert first.status_code == 303
    again = page.client.post(f"{page.url}/comments", data={**form, "body": "另一段文字", "submission_key": "b" * 32})
    assert again.status_code == 422 and "這張驗證碼已經用過，請輸入這張新的驗證碼。" in again.text
    assert db.session.query(CaptchaFailure).count() == 0
