"""Starting the chat app's server: `rag serve` / `python app.py` (serve), the Gradio launch
with its login throttle (launch, login_checker), and the index brought up to date first.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path

import gradio as gr

from rag.answer import span_words
from rag.app.web.eval_layout import CSS as EVAL_CSS
from rag.app.web.layout import CSS, build_app
from rag.config import DEFAULT_ARTICLES, DEFAULT_INDEX_DIR, Settings
from rag.errors import IndexBusyError, IndexMissingError, RagError

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


def launch(demo: gr.Blocks, settings: Settings, host: str = DEFAULT_HOST, port: int | None = DEFAULT_PORT,
           auth: tuple[str, str] | None = None, block: bool = False) -> str:
    """Start the server; returns its URL. With block=True, serves until interrupted."""
    checker = None
    if auth:
        checker = login_checker(auth[0], auth[1], getattr(settings, "login_failures", 5),
                                getattr(settings, "login_lockout", 30.0))
    _, url, _ = demo.launch(
        server_name=host, server_port=port, auth=checker, prevent_thread_lock=True, quiet=True,
        css=CSS + EVAL_CSS, ssr_mode=False, share=False, inbrowser=False,
        max_file_size=settings.max_article_bytes,
        auth_message="This instance is shared: sign in with the user name and password you were given." if auth else None,
    )
    if block:
        demo.block_thread()
    return url


def login_checker(user: str, password: str, failures: int = 5, lockout: float = 30.0, max_lockout: float = 900.0):
    """Gradio's `auth` callable for one user, throttled: each failure delays the reply a little
    (without blocking the server: it is awaited), and after `failures` failures for a user
    name that name is locked for `lockout` seconds, doubled by each further failure. A locked
    name is refused without looking at the password, so guessing gets nowhere while it lasts.
    All names together get 4 times the allowance, so trying many names does not bypass it.

    It must be a plain `async def` function: Gradio awaits it only when
    inspect.iscoroutinefunction says so, and a truthy un-awaited coroutine would let anyone in."""
    import asyncio
    import hmac

    state: dict[str, list[float]] = {}  # key -> [failures, locked until (monotonic)]
    lock = threading.Lock()
    everyone = "\x00all"

    def locked(key: str, now: float) -> bool:
        return state.get(key, [0, 0.0])[1] > now

    def fail(key: str, allowed: int, now: float) -> None:
        n, until = state.get(key, [0, 0.0])
        n += 1
        if n >= allowed:
            until = now + min(max_lockout, lockout * 2 ** (n - allowed))
        state[key] = [n, until]
        if len(state) > 10_000:  # bounded: forget the oldest names
            state.pop(next(k for k in state if k != everyone))

    async def check(username: str, pw: str) -> bool:
        now = time.monotonic()
        key = (username or "")[:200]
        with lock:
            refused = locked(key, now) or locked(everyone, now)
        if refused:
            log.warning("login refused: %r is locked after repeated failures", key[:60])
            await asyncio.sleep(0.5)
            return False
        ok = hmac.compare_digest(key.encode(), user.encode()) & hmac.compare_digest(
            (pw or "").encode(), password.encode())
        with lock:
            if ok:
                state.pop(key, None)
                return True
            fail(key, failures, now)
            fail(everyone, 4 * failures, now)
            n = state[key][0]
        log.warning("failed login for %r (%d in a row)", key[:60], n)
        await asyncio.sleep(min(2.0, 0.2 * n))
        return False

    return check


def parse_auth(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth / RAG_AUTH must be USER:PASSWORD, both non-empty")
    return user, password


def prepare_index(engine, ingest: bool) -> None:
    """Bring the index up to date with data/articles (incremental: cheap when nothing changed)."""
    if ingest:
        if not (Path(engine.settings.index_dir) / "manifest.json").exists():
            print(f"indexing {DEFAULT_ARTICLES} into {engine.settings.index_dir} for the first time "
                  "(about half a minute per 100 passages)…", flush=True)
        try:
            report = engine.ingest([DEFAULT_ARTICLES])
        except IndexBusyError as exc:
            print(f"warning: {exc}; serving the index as it is", flush=True)
            return
        for path, reason in report.skipped:
            print(f"skipped {path}: {reason}", flush=True)
        changed = report.articles_added or report.articles_updated
        print(f"index: {report.articles} articles"
              + (f" ({len(changed)} added or updated, {report.embedded} passages embedded)" if changed else ", up to date"),
              flush=True)
        return
    try:
        engine.require_index()
    except IndexMissingError as exc:
        print(f"warning: {exc}; or add articles in the app's Articles tab", flush=True)


def _warm_up(engine) -> None:
    """Load the model and the index before the first user waits for them."""
    try:
        engine.require_index()
        engine.embed_model.get_query_embedding("warm up")
        span_words.warm_up()  # jieba's dictionary, for the first Chinese short answer
    except RagError:
        pass
    except Exception:
        log.exception("warm-up failed (the first question will try again)")


def _stop_on_sigterm() -> None:
    """`kill`, systemd and container stops send SIGTERM: stop as on Ctrl+C, so that the server,
    the index and the app's temporary files are closed and removed rather than left behind."""
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second stop must not cut the closing short
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def serve(index_dir: Path | str | None = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          auth: str | None = None, ingest: bool | None = None, chroma_url: str | None = None,
          block: bool = True, **llm) -> str:
    """`rag serve` / `python app.py`. Indexes data/articles first when the index is the default one
    (or ingest=True), prints the URL, and serves until interrupted."""
    from rag.engine import Engine

    credentials = parse_auth(auth)
    settings = Settings.from_env(index_dir=index_dir, chroma_url=chroma_url, **llm)
    if ingest is None:
        ingest = settings.chroma_url is None and Path(settings.index_dir).resolve() == DEFAULT_INDEX_DIR.resolve()
    engine = Engine(settings)
    if engine.llm is not None:  # a local model starts now; a setup error stops the app here
        print(f"generative answers: {engine.llm_label} (timeout {settings.llm_timeout:g} s; "
              "citations checked before an answer is shown)", flush=True)
    prepare_index(engine, ingest)
    demo = build_app(engine, settings)
    try:
        url = launch(demo, settings, host, port, credentials, block=False)
    except OSError as exc:
        raise RagError(f"cannot listen on {host}:{port} ({exc}); pass another --port") from exc
    threading.Thread(target=_warm_up, args=(engine,), daemon=True, name="warm-up").start()
    if host not in ("127.0.0.1", "localhost", "::1") and not credentials:
        print(f"warning: listening on {host} without --auth: anyone who can reach it can ask and upload",
              flush=True)
    running = f"Chat app running at {url} (Ctrl+C to stop)"
    if not block:
        print(running, flush=True)
        return url
    try:
        # Both inside the try, the handler before the line that says it runs: a stop may follow
        # that line at once, and arrive while the line is still being written.
        _stop_on_sigterm()
        print(running, flush=True)
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
        engine.close()
    return url
