"""The app as tests and drills start it under gunicorn (`tests.server_app:app`): settings from
TEST_SERVER_CONFIG (JSON), and the captcha text fixed through CAPTCHA_TEXT_FACTORY, as the
in-process tests do."""

import json
import os

from moderation import create_app

CAPTCHA_TEXT = "K7PX"

app = (
    create_app({**json.loads(os.environ["TEST_SERVER_CONFIG"]), "CAPTCHA_TEXT_FACTORY": lambda: CAPTCHA_TEXT})
    if "TEST_SERVER_CONFIG" in os.environ
    else None
)
