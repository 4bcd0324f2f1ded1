"""The starter list's notes in the site's language: rules loaded with the English notes of earlier
releases get the zh-Hant ones, where the note is still the one shipped (an edited note is kept).

Revision ID: 5d1e8a3c7f42
Revises: 3a9c1e7f5b20
Create Date: 2026-12-05 11:40:00

"""
from alembic import op
import sqlalchemy as sa

revision = '5d1e8a3c7f42'
down_revision = '3a9c1e7f5b20'
branch_labels = None
depends_on = None

# (term, the note shipped before, the note shipped now)
NOTES = [
    ('加微信', 'contact-me advertising', '聯絡方式廣告'),
    ('加薇信', 'variant of 加微信', '「加微信」的變體'),
    ('加賴', 'LINE contact advertising', 'LINE 聯絡方式廣告'),
    ('代開發票', 'invoice fraud', '發票詐騙'),
    ('免費機場', 'free proxy ("airport") advertising; held, not spammed: hotels offer 免費機場接送', '翻牆「機場」廣告；送審而不當垃圾：飯店也提供「免費機場接送」'),
    ('翻牆機場', 'proxy advertising', '翻牆代理廣告'),
    ('網賺', 'online money-making schemes', '網路賺錢詐騙'),
    ('兼職日結', 'job scam', '求職詐騙'),
    ('刷單', 'fake-order scam', '刷單詐騙'),
    ('百家樂', 'gambling', '賭博'),
    ('六合彩', 'gambling; held, not spammed: the Hong Kong lottery comes up in ordinary conversation', '賭博；送審而不當垃圾：香港的六合彩在一般談話中常出現'),
    ('博彩', 'gambling promotion', '賭博推廣'),
    ('裸聊', 'sexual services', '色情服務'),
    ('私訊我', 'contact-me, often spam', '要讀者私下聯絡，常是垃圾訊息'),
    ('微信號', 'a WeChat ID given out (微信 alone is an ordinary word in news comments: 公眾號, 微信支付)', '留下微信帳號（單說「微信」在新聞評論中很平常：公眾號、微信支付）'),
    ('wechat', 'contact handles often precede spam', '留下聯絡帳號，常是垃圾訊息的開頭'),
    ('telegram', 'contact handles often precede spam', '留下聯絡帳號，常是垃圾訊息的開頭'),
    ('加我微信', 'contact-me advertising', '聯絡方式廣告'),
    ('加個微信', 'contact-me advertising', '聯絡方式廣告'),
    ('薇信', 'code word for 微信', '「微信」的代稱'),
    ('v信', 'code word for 微信', '「微信」的代稱'),
    ('vx', 'code word for WeChat', '「微信」的代稱'),
    ('加v', 'code word: add on WeChat', '代稱：加微信'),
    ('tg', 'code word for Telegram', 'Telegram 的代稱'),
    ('打擊博彩', 'news usage, not promotion', '新聞用語，不是推廣'),
    ('博彩業監管', 'news usage, not promotion', '新聞用語，不是推廣'),
    ('單刷', 'gaming: to clear a dungeon alone (刷單 written backwards)', '遊戲用語：獨自通關（「刷單」倒過來寫）'),
]
word_rule = sa.table('word_rule', sa.column('term', sa.String), sa.column('note', sa.String))


def _replace(pairs):
    for term, before, after in pairs:
        op.execute(word_rule.update().where(word_rule.c.term == term, word_rule.c.note == before).values(note=after))


def upgrade():
    _replace(NOTES)


def downgrade():
    _replace((term, after, before) for term, before, after in NOTES)
