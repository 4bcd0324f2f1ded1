"""The reader's comment form: fields and validation, with errors as codes the template words."""

from __future__ import annotations

import enum

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import ValidationError

from moderation.screening.characters import BIDI_REORDERING, INVISIBLE, is_control, visible_text
from moderation.services.nicknames import check_nickname


class FormError(enum.StrEnum):
    """What is wrong with a field; the form template words it (see `form_error` in macros.html)."""

    NICKNAME_MISSING = "nickname_missing"
    NICKNAME_TOO_LONG = "nickname_too_long"
    NICKNAME_INVISIBLE_CHARACTERS = "nickname_invisible_characters"
    NICKNAME_RESERVED = "nickname_reserved"
    BODY_EMPTY = "body_empty"
    BODY_TOO_LONG = "body_too_long"
    BODY_REORDERED = "body_reordered"  # bidi overrides or isolates: what is shown is not what is stored
    BODY_REFUSED = "body_refused"  # screening refused it: the reader is not told which term
    UNREADABLE_CHARACTERS = "unreadable_characters"  # bytes not UTF-8 or NUL in what was sent: shown replaced
    AUTHOR_SUSPENDED = "author_suspended"  # a moderator suspended this author: until `field.restriction`
    AUTHOR_BANNED = "author_banned"
    CAPTCHA_WRONG = "captcha_wrong"
    CAPTCHA_EXPIRED = "captcha_expired"  # answered after CAPTCHA_EXPIRY_SECONDS: not counted as a failure
    CAPTCHA_USED = "captcha_used"  # its challenge was spent by another sending of another text
    CAPTCHA_NOT_LOADED = "captcha_not_loaded"  # no such challenge for this browser: its image never came
    CAPTCHA_WAIT = "captcha_wait"  # too many wrong answers: `form.retry_after` seconds
    ALREADY_SENT = "already_sent"  # this form was sent before with another text: sent again, it is a new comment
    REPLY_NOT_FOUND = "reply_not_found"  # the comment answered is not on this article (or not an id)
    REPLY_NOT_PUBLISHED = "reply_not_published"  # the comment answered is not published (any more)
    NOTE_TOO_LONG = "note_too_long"  # a report's note
    NOTE_INVISIBLE_CHARACTERS = "note_invisible_characters"  # controls, bidi or zero-width characters in it


# What a refused post said of the nickname and the text, carried (as `field:code`) through a
# language switch to be said again in the other language: no check runs on the way (the switch must
# not become a way to try texts against screening without a captcha).
CARRIED_ERRORS = {
    "nickname": frozenset({FormError.NICKNAME_MISSING, FormError.NICKNAME_TOO_LONG,
                           FormError.NICKNAME_INVISIBLE_CHARACTERS, FormError.NICKNAME_RESERVED}),
    "body": frozenset({FormError.BODY_EMPTY, FormError.BODY_TOO_LONG, FormError.BODY_REORDERED,
                       FormError.BODY_REFUSED}),
}


def carried_errors(form, shown: list[str]) -> bool:
    """Give the form's fields the errors a refused post showed (`shown_error` values); any given?"""
    given = False
    for value in shown[:8]:
        name, _, code = value.partition(":")
        if code in CARRIED_ERRORS.get(name, ()):
            field = getattr(form, name)
            if code not in field.errors:
                field.errors = [*field.errors, FormError(code)]  # a tuple until a field is validated
            given = True
    return given


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _normalize_newlines(value):
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


class CommentForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect already checks every POST, before the view; once is enough

    csrf_expired = False  # shown again after its CSRF token expired
    continued = False  # came from the shared page's form, which cannot carry a token
    outage = False  # the database could not take it: shown again, nothing stored

    nickname = StringField(filters=[_strip])
    anonymous = BooleanField()
    body = TextAreaField(filters=[_normalize_newlines, _strip])
    captcha_id = HiddenField()
    captcha_medium = HiddenField()  # "audio" once the reader chose to listen: kept across errors
    captcha_answer = StringField()
    submission_key = HiddenField()  # one sending of the form, kept across errors (comments.SUBMISSION_KEY)
    reply_to = HiddenField()  # the published comment this one answers (services.comments.reply_target)

    def validate_nickname(self, field):
        if self.anonymous.data:
            field.data = ""
            return
        config = current_app.config
        result = check_nickname(
            field.data or "",
            max_length=config["NICKNAME_MAX_LENGTH"],
            reserved=config["RESERVED_NICKNAMES"],
        )
        if result.problem:
            raise ValidationError(FormError(f"nickname_{result.problem.value}"))
        field.data = result.value

    def validate_body(self, field):
        text = field.data or ""
        if not visible_text(text):
            raise ValidationError(FormError.BODY_EMPTY)
        if any(char in BIDI_REORDERING for char in text):
            raise ValidationError(FormError.BODY_REORDERED)
        if len(text) > current_app.config["COMMENT_MAX_LENGTH"]:
            raise ValidationError(FormError.BODY_TOO_LONG)


# Joins emoji sequences (👩‍💻): the one format character a note may hold.
ZERO_WIDTH_JOINER = "\u200d"


class ReportForm(FlaskForm):
    """A reader's report: the reason is read by the view (an unknown one counts as 其他); the note
    is the reader's own words, shown to moderators, so it is screened like a nickname: no controls,
    no bidi or zero-width characters (a moderator must see what is stored)."""

    class Meta:
        csrf = False  # CSRFProtect checks every POST before the view

    note = StringField(filters=[_strip])

    def validate_note(self, field):
        text = field.data or ""
        if any((char in INVISIBLE or is_control(char)) and char != ZERO_WIDTH_JOINER for char in text):
            raise ValidationError(FormError.NOTE_INVISIBLE_CHARACTERS)
        if len(text) > current_app.config["REPORT_NOTE_MAX_LENGTH"]:
            raise ValidationError(FormError.NOTE_TOO_LONG)
