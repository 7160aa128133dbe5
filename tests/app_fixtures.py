"""One real app server shared by the app tests (API, browser, load).

The index is built once per test session from data/articles with the real embedding model
and a real embedded Chroma, and the app is launched on a free loopback port in this
process. Each test module imports these fixtures (`from tests.app_fixtures import *`);
pytest then registers a session fixture per module, so the server itself is kept in a
module-level singleton and started only once, then closed at the end of the session.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.config import DEFAULT_ARTICLES, PROJECT_ROOT, Settings

__all__ = ["app_server", "AppServer", "free_port", "write_article", "XSS_ARTICLE", "OUTPUT_DIR"]

OUTPUT_DIR = PROJECT_ROOT / "test-output"

XSS_ARTICLE = """Harborview Lantern Forum <img src=x onerror="window.__xss=1"> opens in Quillmarsh
2024-05-01

The Harborview Lantern Forum was held in Quillmarsh on May 1, 2024.

The Harborview Lantern Forum was chaired by Delphine Okonkwo-Raske, who wrote <script>window.__xss=1</script> on the whiteboard as a security example.

Delegates of the forum also studied the markup <img src=x onerror="window.__xss=1"> and agreed that it must always be shown as plain text.
"""


@dataclass
class AppServer:
    url: str
    engine: object
    settings: Settings
    index_dir: Path
    demo: object


_lock = threading.Lock()
_server: AppServer | None = None
_root: Path | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_article(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _start() -> AppServer:
    global _server, _root
    with _lock:
        if _server is not None:
            return _server
        from rag.engine import Engine
        from rag.app.web.layout import build_app
        from rag.app.web.server import launch

        _root = Path(tempfile.mkdtemp(prefix="rag-app-test-"))
        settings = Settings(index_dir=_root / "index")
        engine = Engine(settings)
        t0 = time.perf_counter()
        report = engine.ingest([DEFAULT_ARTICLES])
        assert report.articles >= 2 and not report.skipped, report.to_json()
        print(f"\n[app tests] index built in {time.perf_counter() - t0:.1f} s: {report.articles} articles")
        demo = build_app(engine, settings, stream_delay=0.02)
        url = launch(demo, settings, "127.0.0.1", free_port())
        _server = AppServer(url=url, engine=engine, settings=settings, index_dir=settings.index_dir, demo=demo)
        return _server


def _stop() -> None:
    global _server, _root
    with _lock:
        if _server is not None:
            _server.demo.close()
            _server = None
        if _root is not None:
            shutil.rmtree(_root, ignore_errors=True)
            _root = None


@pytest.fixture(scope="session")
def app_server():
    server = _start()
    yield server
    _stop()
