"""An admin in a real Chromium starts an export: the job's page moves its progress bar and counts as
the job reports them, without loading itself again, then loads itself once the job is done and
offers the file."""

from pathlib import Path

import pytest
from sqlalchemy import update

from moderation.jobs.long_work import run_long_job_in_app
from moderation.models import CommentStatus, LongJob
from moderation.services import transfer
from tests.conftest import make_comment, make_moderator
from tests.e2e.conftest import wait_until
from tests.e2e.test_moderator_browser import sign_in_to_the_queue

pytestmark = [pytest.mark.e2e, pytest.mark.committing]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "JOBS_RUNNER": "off"}  # the test plays the worker


def test_the_export_page_moves_its_bar_without_reloading_then_offers_the_file(live_server, browser, app, db,
                                                                               tmp_path):
    make_moderator(db, "boss", role="admin")
    make_comment(db, body="待審的評論")
    make_comment(db, status=CommentStatus.APPROVED, body="已公開的評論")
    page = browser.new_context(locale="zh-TW").new_page()
    page.set_default_timeout(10_000)
    sign_in_to_the_queue(page, live_server, "boss")
    page.goto(live_server + "/moderation/admin/data/")
    with page.expect_navigation():
        page.click("form[action$='/export'] button")
    job_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator("[data-job-state]").inner_text() == "排隊中"
    page.evaluate("window.stillTheSamePage = true")  # gone if the page loads itself again

    db.session.execute(update(LongJob).where(LongJob.id == job_id).values(done=3, total=10))  # as a worker reports
    db.session.commit()
    wait_until(page, "document.querySelector('[data-job-progress]').value === 3"
                     " && document.querySelector('[data-job-progress]').max === 10")
    assert page.evaluate("window.stillTheSamePage === true")
    assert "已處理 3／10 筆" in page.locator("[data-job-counts]").inner_text()
    page.screenshot(path=str(tmp_path / "export-running.png"), full_page=True)

    assert run_long_job_in_app(app, job_id) == "done"
    wait_until(page, "document.querySelector('[data-job-status]')?.dataset.finished === 'true'")
    assert page.evaluate("window.stillTheSamePage === undefined")  # loaded again, with the result
    assert "已匯出" in page.locator("p.result").inner_text()
    with page.expect_download() as download:
        page.click(f"a[href='/moderation/admin/data/exports/{job_id}']")
    assert download.value.suggested_filename.startswith("moderation-export-")
    assert f'"format": "{transfer.FORMAT}"' in Path(download.value.path()).read_text(encoding="utf-8").splitlines()[0]
    page.screenshot(path=str(tmp_path / "export-done.png"), full_page=True)
