"""Issue 11, case 5: an upload must not starve the chat. The numbers are measured by
bench/upload_load.py (docs/RELIABILITY.md); these tests check the mechanism without timing it:
a question's model call goes before a waiting background call, and the app's upload ingest runs
in a background, lower-priority thread with one passage per model call."""

import os
import threading
from pathlib import Path

from rag.app.web.controller import ChatApp
from rag.config import Settings
from rag.store import embedding
from tests.support.fake_engine import FakeEngine


def test_a_question_goes_before_waiting_background_calls():
    gate = embedding._Gate()
    order: list[str] = []
    first_in = threading.Event()
    release = threading.Event()

    def background_call(name, hold=False):
        gate.local.background = True
        with gate.call():
            order.append(name)
            if hold:
                first_in.set()
                release.wait(10)

    b1 = threading.Thread(target=background_call, args=("upload-1", True))
    b1.start()
    first_in.wait(10)
    waiting = [threading.Thread(target=background_call, args=(f"upload-{i}",)) for i in (2, 3)]
    for t in waiting:
        t.start()

    def question():
        with gate.call():
            order.append("question")

    q = threading.Thread(target=question)
    q.start()
    # everyone is queued behind upload-1: the question must be next, whatever the arrival order
    for _ in range(200):
        with gate._cond:
            if gate._urgent_waiting == 1:
                break
        threading.Event().wait(0.01)
    release.set()
    for t in [b1, q, *waiting]:
        t.join(10)
    assert order[0] == "upload-1" and order[1] == "question", order


class RecordingEngine(FakeEngine):
    def ingest(self, paths, progress=None, embed_batch=None, **kw):
        from rag.ingest.pipeline import IngestReport

        self.seen = {"thread": threading.current_thread().name, "embed_batch": embed_batch,
                     "background": getattr(embedding._calls.local, "background", False),
                     "nice": os.getpriority(os.PRIO_PROCESS, threading.get_native_id())}
        return IngestReport(articles=1, articles_added=[Path(paths[0]).stem], passages_added=1)


def test_uploads_are_ingested_in_a_low_priority_background_worker(tmp_path):
    settings = Settings(index_dir=tmp_path / "index")
    engine = RecordingEngine(settings)
    src = tmp_path / "summit.txt"
    src.write_text("A Title\n\nThe Glimmerbrook Water Summit was held in Lanternfield.\n", "utf-8")
    summary = ChatApp(engine, settings, stream_delay=0).ingest_file(src)
    assert summary["file"] == "summit.txt"
    assert engine.seen["thread"].startswith("upload-ingest") and engine.seen["background"]
    assert engine.seen["embed_batch"] == settings.upload_embed_batch == 1
    assert engine.seen["nice"] >= os.getpriority(os.PRIO_PROCESS, 0) + 1 or engine.seen["nice"] == 10
    # the caller's thread is untouched
    assert not getattr(embedding._calls.local, "background", False)
