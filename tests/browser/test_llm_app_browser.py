"""The browser chat with a language model configured (a fake OpenAI-compatible server that
writes slowly): the draft streams in marked as being checked, then the verified answer
replaces it, with the mode shown."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from rag.config import Settings
from tests.support.app import OUTPUT_DIR, free_port
from tests.support.llm_fakes import QUESTION, FakeLLMServer, copy_first_sentence

pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def llm_app(real_engine):
    from rag.app.web.layout import build_app
    from rag.app.web.server import launch
    from rag.engine import Engine

    with FakeLLMServer(copy_first_sentence, delay=0.25) as fake:
        settings = Settings(index_dir=real_engine.settings.index_dir, llm_url=fake.url, llm_model="fake-7b")
        engine = Engine(settings, embed_model=real_engine.embed_model)
        demo = build_app(engine, settings, stream_delay=0.02)
        url = launch(demo, settings, "127.0.0.1", free_port())
        yield url
        demo.close()


def test_the_draft_streams_then_the_checked_answer_replaces_it(llm_app, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        page.goto(llm_app, wait_until="load")
        expect(page.get_by_text("Answers are written by fake-7b")).to_be_visible()
        box = page.locator("#rag-question textarea")
        box.fill(QUESTION)
        box.press("Enter")
        draft = page.locator("#rag-chat .rag-draft")
        expect(draft).to_be_visible(timeout=30_000)
        expect(draft.locator(".rag-badge")).to_have_text("Draft · checking citations…")
        OUTPUT_DIR.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT_DIR / "chat-llm-draft.png"))
        done = page.locator("#rag-chat .rag-answer:has(.rag-sources)")
        expect(done).to_have_count(1, timeout=30_000)
        expect(draft).to_have_count(0)
        expect(done.locator(".rag-mode")).to_contain_text("Written by fake-7b")
        expect(done.locator(".rag-mode")).to_contain_text("citations checked: 1 of 1 sentences kept")
        expect(done.locator("a.rag-marker", has_text="[1]").first).to_be_visible()
        expect(done.locator(".rag-cite mark").first).to_be_visible()
        page.screenshot(path=str(OUTPUT_DIR / "chat-llm.png"))
    finally:
        context.close()
