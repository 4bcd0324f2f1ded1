"""The reader's comment form: fields, validation and the messages readers see."""

from __future__ import annotations

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import ValidationError

from moderation.nicknames import NicknameProblem, check_nickname
from moderation.screening.characters import visible_text

NICKNAME_MESSAGES = {
    NicknameProblem.MISSING: "請填寫昵稱，或勾選「匿名」",
    NicknameProblem.TOO_LONG: "昵稱最多 {max} 個字",
    NicknameProblem.INVISIBLE_CHARACTERS: "昵稱含有看不見的字元或控制字元，請重新輸入",
    NicknameProblem.RESERVED: "此昵稱可能被誤認為本站人員（例如管理員、版主、編輯），請改用其他昵稱",
}
WRONG_CAPTCHA = "請輸入正確驗證碼"


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

    nickname = StringField("昵稱", filters=[_strip])
    anonymous = BooleanField("匿名")
    body = TextAreaField("評論內容", filters=[_normalize_newlines, _strip])
    captcha_id = HiddenField()
    captcha_answer = StringField("驗證碼")

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
            raise ValidationError(
                NICKNAME_MESSAGES[result.problem].format(max=config["NICKNAME_MAX_LENGTH"])
            )
        field.data = result.value

    def validate_body(self, field):
        text = field.data or ""
        if not visible_text(text):
            raise ValidationError("請輸入評論內容")
        limit = current_app.config["COMMENT_MAX_LENGTH"]
        if len(text) > limit:
            raise ValidationError(f"評論最多 {limit} 個字，目前有 {len(text)} 個字")
