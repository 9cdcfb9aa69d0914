"""The staff console in a real browser: Debian's Chromium driven by Playwright against a real
uvicorn server on loopback. One operator asks to close a channel, an approver approves it in
the queue (htmx swaps the row), and the channel shows closed; no page breaks the CSP. On the
way, the approver's row lists the application's materials (申请材料): an image's thumbnail
loads, and the PDF opens in Chromium's viewer in a new tab despite the file's sandbox policy.

Playwright's own browser download is never used (`playwright install` is not run): the test
launches /usr/bin/chromium. Without it the test is skipped locally and fails under CI=true.
"""

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from hpf.gateway import service as gateway
from hpf.identity import service as identity
from hpf.kit.db import session_factory, transaction
from hpf.materials import service as materials
from support import staff
from support.appserver import app_servers
from support.env import unavailable

PASSWORD = "Passw0rd!x"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 15_000


@pytest.fixture
def browser() -> Iterator:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    chromium = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if chromium is None:
        unavailable("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, args=ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def server(sqlite_url: str, tmp_path: Path) -> Iterator[str]:
    with transaction(sqlite_url) as s:
        identity.create_staff(s, "ops", "渠道运营", PASSWORD, {"channel_operator"})
        identity.create_staff(s, "rev2", "审批员王", PASSWORD, {"approver"})
    with app_servers(1, env={"HPF_DATABASE_URL": sqlite_url}, logs=tmp_path) as (app,):
        yield app.url


def _sign_in(page, base: str, url: str, login_name: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("#login_name", login_name)
    page.fill("#password", PASSWORD)
    page.fill("#otp", staff.totp_code(session_factory(url), login_name))
    page.click("#login-submit")
    page.wait_for_url(f"{base}/console")


def _picture(fmt: str) -> bytes:
    """A real 40x30 picture (PNG) or one-page document (PDF), red all over."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def _attach_materials(url: str) -> tuple[int, int]:
    """Give the one pending item a PNG and a PDF material, as an online application carries
    them (the change stands in for an application here: the row is the same); their ids."""
    with transaction(url) as s:
        (item,) = gateway.pending(s)
        png = materials.store(s, "member", 1, None, "app", "hardship_proof", "困难证明.png",
                              _picture("PNG"))
        pdf = materials.store(s, "member", 1, None, "app", "allowance_cert", "低保证明.pdf",
                              _picture("PDF"))
        materials.require(s, "member", 1, [png.id, pdf.id], [], item["command_id"])
        return png.id, pdf.id


def test_close_a_channel_with_two_people(browser, server, sqlite_url):
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)

    _sign_in(page, server, sqlite_url, "ops")
    page.goto(f"{server}/console/channels")
    row = page.locator("#channel-kiosk")
    row.locator("input[name=reason]").fill("客户端升级")
    row.get_by_role("button", name="申请关闭").click()
    page.wait_for_selector("#submitted")
    assert "须另一名审批员" in page.inner_text("#submitted")
    assert row.locator(".state").inner_text() == "开放"
    page.click("#logout")
    page.wait_for_url(f"{server}/console/login")

    png, pdf = _attach_materials(sqlite_url)

    _sign_in(page, server, sqlite_url, "rev2")
    page.goto(f"{server}/console/approvals")
    item = page.locator("#approvals tr", has_text="客户端升级")
    row_id = item.get_attribute("id")
    thumb = item.locator(f"#material-{png} img.thumb")
    thumb.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth === 40",
                           arg=thumb.element_handle())
    link = item.locator(f"#material-{pdf} a.material-link")
    assert link.inner_text() == "城乡最低生活保障金领取证"
    with context.expect_page() as opened:
        link.click()
    viewer = opened.value
    viewer.wait_for_load_state()
    assert viewer.evaluate("document.contentType") == "application/pdf"
    # Chromium's PDF viewer runs in its own extension frame: present means the file rendered
    # (a sandbox that blocked the viewer would leave Chromium's "blocked" page instead).
    for _ in range(TIMEOUT_MS // 100):
        if any(f.url.startswith("chrome-extension://") for f in viewer.frames):
            break
        viewer.wait_for_timeout(100)
    assert any(f.url.startswith("chrome-extension://") for f in viewer.frames), viewer.frames
    viewer.close()
    item.get_by_role("button", name="批准").click()
    # htmx replaces the row in place with the decision's outcome (no page load).
    page.wait_for_selector(f"#{row_id} .tag.succeeded")
    assert "已批准并生效" in page.inner_text(f"#{row_id}")

    page.goto(f"{server}/console/channels")
    assert page.locator("#channel-kiosk .state").inner_text() == "关闭"
    assert "客户端升级" in page.locator("#channel-kiosk").inner_text()
    assert violations == []
    context.close()
