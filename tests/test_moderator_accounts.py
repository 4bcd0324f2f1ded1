"""Moderator accounts: login, throttling, sessions, roles, CSRF, and the shell commands."""

import re

import pytest

from moderation.models import AuditEntry, LoginAttempt, Moderator, ModeratorSession, Role
from tests.conftest import PASSWORD, ModeratorBrowser, csrf_token_of, make_comment, make_moderator


def login_page(client):
    return client.get("/moderation/login").get_data(as_text=True)


def test_signed_out_visitors_reach_nothing(client, db):
    comment = make_comment(db)
    for url in ("/moderation/", "/moderation/authors/abcd", "/moderation/admin/moderators",
                "/moderation/admin/audit", "/moderation/admin/audit.csv"):
        response = client.get(url)
        assert response.status_code == 302 and "/moderation/login" in response.location, url
    token = csrf_token_of(login_page(client))
    response = client.post(f"/moderation/comments/{comment.id}/decide",
                           data={"csrf_token": token, "decision": "approve", "version": 1})
    assert response.status_code == 401


def test_login_with_the_right_password_opens_the_queue(client, moderator_account, db):
    browser = ModeratorBrowser(client)
    response = browser.login()
    assert response.status_code == 303 and response.location == "/moderation/"
    assert "審核佇列" in browser.queue()
    assert db.session.query(AuditEntry).filter_by(action="login", actor="mod").count() == 1


@pytest.mark.parametrize("name, password", [("mod", "wrong password!"), ("nobody", PASSWORD)])
def test_wrong_name_or_password_get_the_same_generic_message(client, moderator_account, db, name, password):
    response = ModeratorBrowser(client).login(name, password)
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "帳號或密碼錯誤" in html and "不存在" not in html
    assert db.session.query(AuditEntry).filter_by(action="login_failed").count() == 1


def test_login_goes_back_to_the_page_asked_for_but_never_offsite(client, moderator_account):
    page = client.get("/moderation/login?next=/moderation/?tab=spam").get_data(as_text=True)
    response = client.post("/moderation/login", data={"csrf_token": csrf_token_of(page), "name": "mod",
                                                      "password": PASSWORD, "next": "/moderation/?tab=spam"})
    assert response.location == "/moderation/?tab=spam"
    client.get("/moderation/")
    other = ModeratorBrowser(client.application.test_client())
    page = other.client.get("/moderation/login").get_data(as_text=True)
    response = other.client.post("/moderation/login", data={"csrf_token": csrf_token_of(page), "name": "mod",
                                                            "password": PASSWORD, "next": "//evil.example/"})
    assert response.location == "/moderation/"


def from_address(app, address: str) -> ModeratorBrowser:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return ModeratorBrowser(client)


def test_failures_from_one_address_get_a_growing_delay_there_only(app, moderator_account, clock):
    attacker = from_address(app, "10.0.0.1")
    for _ in range(5):
        assert attacker.login(password="wrong password!").status_code == 401
    refused = attacker.login()  # even the right password waits, at this address
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 30
    assert "密碼錯誤次數過多，請於 30 秒後再試" in refused.get_data(as_text=True)
    clock.advance(seconds=31)
    assert attacker.login(password="wrong password!").status_code == 401
    assert 30 < int(attacker.login().headers["Retry-After"]) <= 60  # the delay doubles
    assert from_address(app, "10.0.0.2").login().status_code == 303  # the owner, elsewhere, gets in


def test_an_account_under_attack_from_many_addresses_still_lets_its_owner_in(app, moderator_account):
    for index in range(25):
        from_address(app, f"10.1.0.{index}").login(password="wrong password!")
    assert from_address(app, "10.1.0.3").login().status_code == 429  # a failing address waits at once
    assert from_address(app, "10.2.0.1").login().status_code == 303  # an address that never failed


def test_successful_sign_ins_never_count(app, moderator_account):
    browser = from_address(app, "10.3.0.1")
    for _ in range(40):
        assert browser.login().status_code == 303


def test_failures_across_names_delay_that_address_only(app, moderator_account):
    stuffer = from_address(app, "10.4.0.1")
    for index in range(30):
        stuffer.login(f"guess{index}", "wrong password!")
    assert stuffer.login().status_code == 429
    assert from_address(app, "10.4.0.2").login().status_code == 303


def test_current_password_guesses_on_the_change_form_are_slowed_too(moderator):
    for _ in range(5):
        response = moderator.post("/moderation/password", current="not my password", new="a" * 12, again="a" * 12)
        assert response.status_code == 422
    response = moderator.post("/moderation/password", current="still guessing", new="a" * 12, again="a" * 12)
    assert response.status_code == 429 and "Retry-After" in response.headers


def test_session_is_rotated_at_login(client, moderator_account):
    client.get("/moderation/login")
    before = client.get_cookie("session").value
    ModeratorBrowser(client).login()
    assert client.get_cookie("session").value != before
    assert ModeratorBrowser(client).csrf() != csrf_token_of(login_page(client.application.test_client()))


def test_session_cookie_is_httponly_lax_and_bounded(client, moderator_account, app):
    response = ModeratorBrowser(client).login()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() <= 24 * 3600


def test_logout_ends_the_session_even_for_a_copied_cookie(app, moderator, db):
    stolen = app.test_client()
    stolen.set_cookie("session", moderator.client.get_cookie("session").value)
    assert stolen.get("/moderation/").status_code == 200
    moderator.post("/moderation/logout")
    assert moderator.client.get("/moderation/").status_code == 302
    assert stolen.get("/moderation/").status_code == 302
    assert db.session.query(ModeratorSession).count() == 0


def test_session_expires_after_its_lifetime(moderator, clock, app):
    clock.advance(seconds=app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() + 1)
    assert moderator.client.get("/moderation/").status_code == 302


def test_disabled_moderator_is_signed_out_at_once(admin, moderator, moderator_account, db):
    asked = admin.post(f"/moderation/admin/moderators/{moderator_account.id}/active", active="0")
    assert asked.status_code == 200 and "要停用 mod 嗎？" in asked.get_data(as_text=True)
    assert moderator.client.get("/moderation/").status_code == 200  # not yet: only asked
    done = admin.post(f"/moderation/admin/moderators/{moderator_account.id}/active", active="0", confirmed="1")
    assert done.status_code == 303
    assert "已停用 mod" in admin.client.get(done.location).get_data(as_text=True)
    assert moderator.client.get("/moderation/").status_code == 302
    assert moderator.login().status_code == 401
    admin.post(f"/moderation/admin/moderators/{moderator_account.id}/active", active="1")
    assert moderator.login().status_code == 303
    actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    assert "moderator_disable" in actions and "moderator_enable" in actions


def test_admin_cannot_disable_themselves(admin, admin_account, db):
    admin.post(f"/moderation/admin/moderators/{admin_account.id}/active", active="0")
    db.session.expire_all()
    assert db.session.get(Moderator, admin_account.id).is_active


def test_a_moderator_cannot_reach_admin_pages(moderator, moderator_account):
    for url in ("/moderation/admin/moderators", "/moderation/admin/articles", "/moderation/admin/audit",
                "/moderation/admin/audit.csv"):
        assert moderator.client.get(url).status_code == 403, url
    assert moderator.post(f"/moderation/admin/moderators/{moderator_account.id}/password").status_code == 403


def test_admin_creates_a_moderator_with_a_one_time_password(admin, app, db):
    response = admin.post("/moderation/admin/moderators", name="新版主", role="moderator")
    html = response.get_data(as_text=True)
    password = re.search(r'<code class="secret">([^<]+)</code>', html).group(1)
    newcomer = ModeratorBrowser(app.test_client())
    assert newcomer.login("新版主", password).status_code == 303
    assert newcomer.client.get("/moderation/").location == "/moderation/password"
    forced = newcomer.client.get("/moderation/password").get_data(as_text=True)
    assert re.search(r'<input id="current"[^>]* autofocus>', forced)  # the page opens in its first field
    response = newcomer.post("/moderation/password", current=password, new="a brand new secret", again="a brand new secret")
    assert response.status_code == 303
    assert newcomer.client.get("/moderation/").status_code == 200
    assert "moderator_create" in [e.action for e in db.session.query(AuditEntry)]


def test_an_admin_is_offered_no_button_to_disable_their_own_account_and_is_refused_if_sent(admin, db, moderator_account):
    page = admin.client.get("/moderation/admin/moderators").get_data(as_text=True)
    assert "停用 boss" not in page and "停用 mod" in page and "重設 boss 的密碼" in page
    own = db.session.query(Moderator).filter_by(name="boss").one()
    refused = admin.post(f"/moderation/admin/moderators/{own.id}/active", active="0")
    assert refused.status_code == 303
    db.session.expire_all()
    assert db.session.get(Moderator, own.id).is_active


def test_the_create_form_sent_again_by_reload_says_the_account_was_made(admin, db):
    page = admin.client.get("/moderation/admin/moderators").get_data(as_text=True)
    form_id = re.search(r'name="form_id" value="([^"]+)"', page).group(1)
    first = admin.post("/moderation/admin/moderators", name="mod_lin", role="moderator", form_id=form_id)
    assert first.status_code == 200 and 'class="secret"' in first.get_data(as_text=True)
    again = admin.post("/moderation/admin/moderators", name="mod_lin", role="moderator", form_id=form_id)
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and "這份表單已送出過：帳號 mod_lin 已經建立" in html
    assert "這個帳號名稱已被使用" not in html and 'class="secret"' not in html
    assert db.session.query(Moderator).filter_by(name="mod_lin").count() == 1


def test_create_refuses_a_taken_name_with_a_message_and_keeps_the_role_chosen(admin, moderator_account):
    response = admin.post("/moderation/admin/moderators", name="MOD", role="admin")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "這個帳號名稱已被使用" in html
    chosen = re.search(r'<select id="new-role".*?</select>', html, re.S).group()
    assert '<option value="admin" selected>' in chosen and '<option value="moderator" selected>' not in chosen


def test_admin_resets_a_password_and_old_sessions_end(admin, moderator, moderator_account, app):
    asked = admin.post(f"/moderation/admin/moderators/{moderator_account.id}/password").get_data(as_text=True)
    assert "要重設 mod 的密碼嗎？" in asked and '<code class="secret">' not in asked
    assert moderator.client.get("/moderation/").status_code == 200  # only asked: the password still works
    html = admin.post(f"/moderation/admin/moderators/{moderator_account.id}/password", confirmed="1").get_data(as_text=True)
    password = re.search(r'<code class="secret">([^<]+)</code>', html).group(1)
    assert moderator.client.get("/moderation/").status_code == 302
    assert moderator.login().status_code == 401
    assert moderator.login("mod", password).status_code == 303


@pytest.mark.parametrize("new, again, message", [
    ("short", "short", "密碼至少需要 12 個字元"),
    ("short", "shorter", "密碼至少需要 12 個字元"),  # said first: typing it again the same would not do
    ("long enough password", "different password", "兩次輸入的新密碼不一致"),
    (PASSWORD, PASSWORD, "新密碼不能與目前的密碼相同"),
])
def test_password_change_refusals(moderator, new, again, message):
    response = moderator.post("/moderation/password", current=PASSWORD, new=new, again=again)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_password_change_needs_the_current_password(moderator):
    response = moderator.post("/moderation/password", current="not the password", new="x" * 12, again="x" * 12)
    assert "目前的密碼不正確" in response.get_data(as_text=True)


def test_passwords_are_stored_as_argon2id(moderator_account):
    assert moderator_account.password_hash.startswith("$argon2id$")


def test_every_post_needs_a_csrf_token(moderator, admin, db, moderator_account):
    comment = make_comment(db)
    for browser, url in [
        (moderator, f"/moderation/comments/{comment.id}/decide"),
        (moderator, "/moderation/comments/bulk"),
        (moderator, "/moderation/logout"),
        (moderator, "/moderation/password"),
        (admin, "/moderation/admin/moderators"),
        (admin, f"/moderation/admin/moderators/{moderator_account.id}/active"),
        (admin, f"/moderation/admin/moderators/{moderator_account.id}/password"),
        (admin, "/moderation/admin/articles/1/mode"),
    ]:
        response = browser.client.post(url, data={"decision": "approve", "version": 1, "active": "0", "mode": "closed"})
        assert response.status_code == 400, url
    assert browser.client.post("/moderation/login", data={"name": "mod", "password": PASSWORD}).status_code == 400


def test_get_on_an_action_url_is_405(moderator, db):
    comment = make_comment(db)
    assert moderator.client.get(f"/moderation/comments/{comment.id}/decide").status_code == 405
    assert moderator.client.get("/moderation/logout").status_code == 405
    assert moderator.client.get("/moderation/comments/bulk").status_code == 405


def test_cli_creates_a_moderator_prompting_for_the_password(runner, db):
    result = runner.invoke(args=["moderators", "create", "小明", "--role", "admin"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    created = db.session.query(Moderator).filter_by(name="小明").one()
    assert created.role.value == "admin" and created.password_hash.startswith("$argon2id$")


def test_cli_refuses_a_short_password(runner, db):
    result = runner.invoke(args=["moderators", "create", "小明"], input="short\nshort\n")
    assert result.exit_code != 0 and "12" in result.output
    assert db.session.query(Moderator).count() == 0


def test_cli_sets_a_password(runner, moderator_account, app):
    result = runner.invoke(args=["moderators", "set-password", "mod"], input="another long secret\nanother long secret\n")
    assert result.exit_code == 0, result.output
    assert ModeratorBrowser(app.test_client()).login("mod", "another long secret").status_code == 303
    # A name that is not there is said before any password is asked for.
    ghost = runner.invoke(args=["moderators", "set-password", "ghost"], input="")
    assert ghost.exit_code == 1 and ghost.output == "Error: no moderator named 'ghost'\n"
    scripted = runner.invoke(args=["moderators", "set-password", "mod", "--password", "a scripted secret"])
    assert scripted.exit_code == 0 and ModeratorBrowser(app.test_client()).login("mod", "a scripted secret").status_code == 303


def test_login_attempts_are_recorded_per_name_and_address(client, moderator_account, db):
    ModeratorBrowser(client).login(password="nope nope nope")
    attempt = db.session.query(LoginAttempt).one()
    assert attempt.name_key == "mod" and not attempt.succeeded and len(attempt.ip_hash) == 64


@pytest.mark.committing  # two app instances: two connections
def test_the_login_limit_holds_across_workers(app_config, moderator_account):
    """Two app instances on one database stand for two gunicorn workers."""
    from moderation import create_app
    from moderation.extensions import db as _db

    workers = [create_app(app_config), create_app(app_config)]
    try:
        for _ in range(5):
            ModeratorBrowser(workers[0].test_client()).login(password="wrong password!")
        assert ModeratorBrowser(workers[1].test_client()).login().status_code == 429
    finally:
        for worker in workers:
            with worker.app_context():
                _db.engine.dispose()


@pytest.mark.parametrize("name, typed", [("Straße1", "STRASSE1"), ("ИВАН1", "иван1"), ("ÅSA1", "åsa1")])
def test_names_sign_in_however_their_case_is_typed(app, db, name, typed):
    make_moderator(db, name)
    assert from_address(app, "10.7.0.1").login(typed).status_code == 303


@pytest.mark.parametrize("first, second", [("ИВАН", "иван"), ("alice", "ALICE"), ("alice", "аlice"),
                                           ("mod1", "modl"), ("admin2", "ᴀᴅᴍɪɴ2")])
def test_a_name_that_looks_like_an_existing_account_is_refused(db, first, second):
    from moderation.services import accounts

    make_moderator(db, first)
    with pytest.raises(accounts.AccountError):
        accounts.create_moderator(db.session, second, PASSWORD, role=Role.MODERATOR)


@pytest.mark.parametrize("name", ["two words", "王 小明", "lin..wei", ".lin", "lin-", "_mod", "<b>mod</b>", "mod'1",
                                  "mod(2)", "a/b", "mod@desk", "——", "\u0301mod", "lin.\u0301wei"])
def test_a_name_of_other_characters_than_letters_digits_and_single_joiners_is_refused(db, name):
    from moderation.services import accounts

    with pytest.raises(accounts.AccountError) as refused:
        accounts.create_moderator(db.session, name, PASSWORD, role=Role.MODERATOR)
    assert refused.value.problem is accounts.AccountProblem.NAME_CHARACTERS


@pytest.mark.parametrize("name", ["王小明", "lin.wei", "desk-2", "mod_3", "ＭＯＤ４", "Åsa", "मोहन", "สมศักดิ์",
                                  "Jose\u0301"])
def test_names_of_any_script_with_single_joiners_are_taken(db, name):
    from moderation.services import accounts

    assert accounts.create_moderator(db.session, name, PASSWORD, role=Role.MODERATOR).id


def test_the_admin_page_says_which_characters_a_name_may_hold_and_keeps_what_was_typed(admin):
    response = admin.post("/moderation/admin/moderators", name="王 小明", role="admin")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "帳號名稱只能由文字與數字組成，中間可用單個 . _ 或 - 連接" in html
    assert 'value="王 小明"' in html


@pytest.mark.parametrize("name", ["system", "SYSTEM", "cli", "c1i", "ѕystem"])
def test_the_audit_logs_actor_names_cannot_be_taken(db, name):
    from moderation.services import accounts

    with pytest.raises(accounts.AccountError):
        accounts.create_moderator(db.session, name, PASSWORD, role=Role.MODERATOR)


def test_login_and_password_errors_are_tied_to_their_fields(client, moderator_account):
    browser = ModeratorBrowser(client)
    html = browser.login(password="wrong password!").get_data(as_text=True)
    assert 'id="login-error"' in html
    assert re.search(r'id="password"[^>]*aria-invalid="true" aria-describedby="login-error" autofocus', html)
    assert browser.login().status_code == 303
    html = browser.post("/moderation/password", current="nope", new="x" * 12, again="x" * 12).get_data(as_text=True)
    assert re.search(r'id="current"[^>]*aria-invalid="true" aria-describedby="password-error"', html)
    assert not re.search(r'id="new"[^>]*aria-invalid', html)
    html = browser.post("/moderation/password", current=PASSWORD, new="y" * 12, again="z" * 12).get_data(as_text=True)
    assert re.search(r'id="new"[^>]*aria-invalid="true" aria-describedby="password-error"', html)


def test_a_session_that_ended_during_a_decision_keeps_the_typed_note_through_the_sign_in(moderator, db, clock):
    comment = make_comment(db)
    token = moderator.csrf()
    clock.advance(hours=9)  # past the session's lifetime
    response = moderator.client.post(f"/moderation/comments/{comment.id}/decide", data={
        "csrf_token": token, "decision": "reject", "version": 1, "reason": "other", "note": "重複貼文三次",
        "share_note": "1", "back": "/moderation/?tab=pending"})
    html = response.get_data(as_text=True)
    assert response.status_code == 401 and "登入已逾時" in html and 'value="重複貼文三次"' in html
    assert '<input type="hidden" name="kept_share_note" value="1">' in html
    assert 'href="/moderation/" class="site-name"' in html  # the login page leads within moderation
    # The account's name takes the focus (the kept note stands first, for the eye, not to be typed in).
    assert re.search(r'<input id="name"[^>]*autofocus', html) and html.count("autofocus") == 1
    signed_in = moderator.client.post("/moderation/login", data={
        "csrf_token": csrf_token_of(html), "name": "mod", "password": PASSWORD, "next": "/moderation/?tab=pending",
        "kept_comment": str(comment.id), "kept_note": "重複貼文三次", "kept_reason": "other", "kept_share_note": "1"})
    assert signed_in.status_code == 303 and signed_in.location == f"/moderation/?tab=pending#card-{comment.id}"
    queue = moderator.queue(tab="pending")
    assert re.search(rf'id="note-{comment.id}"[^>]*value="重複貼文三次"', queue)
    assert re.search(r'<option value="other" selected>', queue)
    assert re.search(r'name="share_note" value="1" checked', queue)  # the note still goes to its author
    db.session.refresh(comment)
    assert comment.status.value == "pending"  # nothing was decided behind the moderator's back


def test_a_403_in_the_moderation_pages_keeps_their_navigation(moderator):
    response = moderator.client.get("/moderation/admin/moderators")
    html = response.get_data(as_text=True)
    assert response.status_code == 403 and "沒有權限" in html
    assert 'class="moderation-nav"' in html and "回到審核佇列" in html


@pytest.mark.parametrize("path", ["/moderation/admin/jobs/999999", "/moderation/admin/webhooks/999999",
                                  "/moderation/admin/data/exports/999999", "/moderation/admin/articles/999999/edit",
                                  # no route matches these at all (an id that is no number)
                                  "/moderation/comments/abc", "/moderation/comments/-1", "/moderation/admin/jobs/abc.json"])
def test_an_error_on_any_admin_page_keeps_the_moderation_navigation(admin, path):
    response = admin.client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and 'class="moderation-nav"' in html and "回到審核佇列" in html


def test_admin_changes_a_moderators_role_and_it_is_logged(admin, moderator_account, db):
    response = admin.post(f"/moderation/admin/moderators/{moderator_account.id}/role", role="admin")
    assert "mod 的角色已改為管理員" in admin.client.get(response.location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Moderator, moderator_account.id).role is Role.ADMIN
    entry = db.session.query(AuditEntry).filter_by(action="role_change").one()
    assert (entry.actor, entry.note, entry.from_status, entry.to_status) == ("boss", "mod", "moderator", "admin")
    assert "管理員 → 管理員" not in admin.client.get("/moderation/admin/audit").get_data(as_text=True)
    assert "版主 → 管理員" in admin.client.get("/moderation/admin/audit").get_data(as_text=True)


def test_the_last_admin_cannot_give_up_the_role(admin, admin_account, db):
    response = admin.post(f"/moderation/admin/moderators/{admin_account.id}/role", role="moderator", confirmed="1")
    assert "唯一啟用中的管理員" in admin.client.get(response.location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Moderator, admin_account.id).role is Role.ADMIN
    assert db.session.query(AuditEntry).filter_by(action="role_change").count() == 0


def test_an_admin_with_another_admin_may_step_down_once_they_confirm(admin, admin_account, db):
    make_moderator(db, "chief", role="admin")
    asked = admin.post(f"/moderation/admin/moderators/{admin_account.id}/role", role="moderator")
    assert asked.status_code == 200 and "要放棄您自己的管理員角色嗎？" in asked.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Moderator, admin_account.id).role is Role.ADMIN
    admin.post(f"/moderation/admin/moderators/{admin_account.id}/role", role="moderator", confirmed="1")
    db.session.expire_all()
    assert db.session.get(Moderator, admin_account.id).role is Role.MODERATOR


def test_a_role_that_is_not_one_is_a_400(admin, moderator_account):
    assert admin.post(f"/moderation/admin/moderators/{moderator_account.id}/role", role="owner").status_code == 400
