"""Issue 11, case 3: the like handler takes a vote, not whatever a client sends; the file is
bounded. The real handler (ChatApp.like) writing the real feedback file, driven with the data a
client that calls it directly can send."""

from types import SimpleNamespace

import gradio as gr
import pytest

from rag.app import feedback
from rag.app.web.controller import ChatApp
from rag.config import Settings
from tests.support.fake_engine import FakeEngine


@pytest.fixture
def app(tmp_path):
    settings = Settings(index_dir=tmp_path / "index", votes_per_minute=5, feedback_max_bytes=20_000)
    app = ChatApp(FakeEngine(settings), settings, stream_delay=0)
    _, turns, _ = list(app.chat("q?", [], 5, False))[-1]
    return app, turns, settings.index_dir / "feedback.jsonl"


def client(host):
    return SimpleNamespace(client=SimpleNamespace(host=host))


def test_a_huge_vote_is_refused_and_nothing_is_written(app):
    app, turns, path = app
    for liked in ["x" * 30_000_000, {"a": 1}, 7, "up"]:
        with pytest.raises(gr.Error, match="thumbs up or a thumbs down"):
            app.like(turns, gr.LikeData(None, {"index": 1, "value": "x", "liked": liked}), client("1.2.3.4"))
    with pytest.raises(gr.Error):
        app.like(turns, gr.LikeData(None, {"index": "1" * 1000, "value": "x", "liked": True}), client("1.2.3.4"))
    assert not path.exists()


def test_votes_are_rate_limited_per_client(app):
    app, turns, path = app
    for _ in range(5):
        app.like(turns, gr.LikeData(None, {"index": 1, "value": "x", "liked": True}), client("10.0.0.1"))
    with pytest.raises(gr.Error, match="too many votes"):
        app.like(turns, gr.LikeData(None, {"index": 1, "value": "x", "liked": True}), client("10.0.0.1"))
    app.like(turns, gr.LikeData(None, {"index": 1, "value": "x", "liked": False}), client("10.0.0.2"))
    assert [e["vote"] for e in feedback.read(path.parent)] == ["up"] * 5 + ["down"]


def test_the_file_rotates_at_its_size_limit(tmp_path):
    r = {"question": "q" * 1000, "answer": "a", "answered": True, "citations": []}
    for _ in range(200):
        feedback.record(tmp_path, r, "up", max_bytes=10_000, keep=2)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["feedback.jsonl", "feedback.jsonl.1", "feedback.jsonl.2"]
    assert all((tmp_path / f).stat().st_size <= 10_000 for f in files)


def test_comment_is_bounded(tmp_path):
    r = {"question": "q", "answer": "a", "answered": True, "citations": []}
    assert feedback.record(tmp_path, r, "down", comment="wrong date")["comment"] == "wrong date"
    with pytest.raises(feedback.FeedbackError, match="limit is 1,000"):
        feedback.record(tmp_path, r, "down", comment="x" * 1001)
    with pytest.raises(feedback.FeedbackError):
        feedback.record(tmp_path, r, "cleared")
