"""The browser tests drive Debian's chromium with Playwright: one browser per module, one page per test
on the shared app server (tests/conftest.py), with no request leaving the machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.app import OUTPUT_DIR

CHROMIUM = Path("/usr/bin/chromium")

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium); `apt-get install -y chromium` "
                    "to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_server, request):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = context.new_page()
    outside: list[str] = []
    local = app_server.url.rstrip("/")
    pg.on("request", lambda r: None if r.url.startswith((local, "data:", "blob:")) else outside.append(r.url))
    pg.goto(app_server.url, wait_until="load")
    pg.locator("#rag-question textarea").wait_for()
    failed_before = request.session.testsfailed
    yield pg
    if request.session.testsfailed > failed_before:  # keep what the browser showed, for the CI log
        OUTPUT_DIR.mkdir(exist_ok=True)
        pg.screenshot(path=str(OUTPUT_DIR / f"failed-{request.node.name}.png"))
    context.close()
    assert outside == [], f"the page called out of the machine: {outside}"
