"""One real app server for the app tests (API, browser, load): `start_app` and `AppServer`.

The index is built from data/articles with the real embedding model and a real embedded
Chroma, and the app is launched on a free loopback port in this process. The session fixture
`app_server` (tests/conftest.py) starts it once and closes it at the end of the session.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path

from rag.config import DEFAULT_ARTICLES, PROJECT_ROOT, Settings

OUTPUT_DIR = PROJECT_ROOT / "test-output"
ANSWER_TIMEOUT = 30_000  # ms a browser test waits for an answer to appear

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_article(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def start_app(root: Path) -> AppServer:
    from rag.app.web.layout import build_app
    from rag.app.web.server import launch
    from rag.engine import Engine

    settings = Settings(index_dir=root / "index")
    engine = Engine(settings)
    t0 = time.perf_counter()
    report = engine.ingest([DEFAULT_ARTICLES])
    assert report.articles >= 2 and not report.skipped, report.to_json()
    print(f"\n[app tests] index built in {time.perf_counter() - t0:.1f} s: {report.articles} articles")
    demo = build_app(engine, settings, stream_delay=0.02)
    url = launch(demo, settings, "127.0.0.1", free_port())
    return AppServer(url=url, engine=engine, settings=settings, index_dir=settings.index_dir, demo=demo)
