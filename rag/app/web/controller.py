"""What the chat's events and endpoints call: ChatApp, a thin layer over rag.engine.Engine.

Each method checks what the client sent (rag.app.inputs), calls the engine, and turns engine
errors into messages for the user; the HTML comes from rag.app.web.render. The endpoints
(/ask, /upload) are wired in rag.app.web.layout.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import gradio as gr

from rag.app import feedback, inputs
from rag.app.web.render import (answer_chunks, articles_rows, chat_messages, error_html, history_entry,
                                stats_html, upload_bad_html, upload_ok_html, upload_report_html)
from rag.config import Settings
from rag.errors import ArticleError, QuestionError, RagError
from rag.types import Draft
from rag.ingest import uploads

log = logging.getLogger(__name__)

MAX_TOP_K = 20
DRAFT_INTERVAL = 0.12  # seconds between two renderings of the model's draft


class ChatApp:
    """What the UI events call; each method turns engine errors into messages for the user."""

    def __init__(self, engine, settings: Settings | None = None, stream_delay: float = 0.04):
        self.engine = engine
        self.settings = settings or engine.settings
        self.stream_delay = stream_delay
        self._votes = feedback.RateLimit(getattr(self.settings, "votes_per_minute", 30), 60.0)
        self._worker = None
        self._worker_lock = threading.Lock()

    # chat ---------------------------------------------------------------------------------
    def chat(self, message: str, turns: list[dict[str, Any]] | None, top_k: float, show_scores: bool,
             min_confidence: float | None = None, short_withhold: float | None = None) -> Iterator:
        turns = list(turns or [])
        try:
            question = self.engine.validate_question(inputs.question_text(message))
            top_k = inputs.top_k(top_k, MAX_TOP_K) or min(MAX_TOP_K, self.settings.top_k)
            floor = inputs.min_confidence(min_confidence)
            withhold = inputs.short_withhold(short_withhold)
        except QuestionError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        history = [history_entry(t) for t in turns if t.get("result") is not None]
        turn: dict[str, Any] = {"id": "m" + uuid.uuid4().hex[:10], "question": question, "result": None,
                                "error": None, "upto": 0, "top_k": int(top_k)}
        turns.append(turn)
        yield chat_messages(turns, show_scores), turns, ""
        try:
            result = None
            shown = 0.0
            ask_stream = getattr(self.engine, "ask_stream", None)
            extra = {k: v for k, v in (("min_confidence", floor), ("short_withhold", withhold)) if v is not None}
            items = (ask_stream(question, top_k=int(top_k), history=history, **extra) if ask_stream
                     else [self.engine.ask(question, top_k=int(top_k), history=history, **extra)])
            for item in items:
                if not isinstance(item, Draft):
                    result = item
                    break
                # The model's draft, unverified: shown as such, then replaced by the checked answer.
                turn["draft"] = item.text
                if time.monotonic() - shown >= DRAFT_INTERVAL:
                    shown = time.monotonic()
                    yield chat_messages(turns, show_scores), turns, ""
        except RagError as exc:
            turn["error"] = str(exc)
            yield chat_messages(turns, show_scores), turns, ""
            return
        except Exception as exc:  # a bug: keep the app up, say where to look
            log.exception("answering %r failed", question)
            turn["error"] = f"internal error ({exc.__class__.__name__}); the server log has the details"
            yield chat_messages(turns, show_scores), turns, ""
            return
        turn["result"] = result.to_json(details=True)
        turn.pop("draft", None)
        chunks = answer_chunks(turn["result"]["answer"])
        for i in range(1, len(chunks)):
            turn["upto"] = i
            yield chat_messages(turns, show_scores), turns, ""
            time.sleep(self.stream_delay)
        turn["upto"] = None
        yield chat_messages(turns, show_scores), turns, ""

    def like(self, turns: list[dict[str, Any]] | None, data: gr.LikeData, request: gr.Request = None) -> None:
        # Everything in `data` comes from the client, which need not be our page: only a
        # boolean is a vote, and one client may vote only so often (rag.app.feedback has the limits).
        liked = data.liked
        if liked is None:
            return  # a vote taken back: nothing to record
        if liked is not True and liked is not False:
            log.warning("refused a vote that is not a thumb (%s, %d characters)", type(liked).__name__,
                        len(str(liked)) if isinstance(liked, (str, bytes)) else -1)
            raise gr.Error("a vote is a thumbs up or a thumbs down", print_exception=False)
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        if not isinstance(index, int) or isinstance(index, bool):
            raise gr.Error("that message cannot be voted on", print_exception=False)
        turns = turns or []
        turn = turns[index // 2] if 0 <= index // 2 < len(turns) else None
        if turn is None or turn.get("result") is None:
            return
        if not self._votes.allow(_client_key(request)):
            raise gr.Error("too many votes from your address; wait a minute", print_exception=False)
        try:
            feedback.record(self.settings.index_dir, turn["result"], "up" if liked else "down",
                            max_bytes=self.settings.feedback_max_bytes, keep=self.settings.feedback_keep,
                            top_k=turn.get("top_k"))
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except OSError as exc:
            log.exception("cannot write feedback")
            raise gr.Error(f"your vote could not be saved ({exc.strerror or exc})") from None
        gr.Info("Thanks, your vote was saved.")

    def default_short_withhold(self) -> float:
        """The withhold factor the chat starts with: the server's (0 when it never withholds)."""
        try:
            return float(self.engine.short_withhold() or 0.0)
        except Exception:  # no model file: the engine says so on the first question
            log.warning("short-answer model not loaded", exc_info=True)
            return 0.0

    def default_min_confidence(self) -> float:
        try:
            return float(self.engine.min_confidence())
        except Exception:  # no model file: the engine says so on the first question
            log.warning("reader model not loaded", exc_info=True)
            return 0.0

    # API ----------------------------------------------------------------------------------
    def ask_api(self, question: str, top_k: int = 0, min_confidence: float = -1,
                short_withhold: float = -1) -> dict:
        """Answer a question about the articles. Returns the JSON of `rag ask --json`: question,
        answer (with [n] markers), answered, confidence, short_answer, citations, timings_ms.
        top_k: passages to retrieve; min_confidence: below it the answer is an abstention (0 to 1);
        short_withhold: how sure a short answer must be (0 to 100, 0 never withholds). 0 for
        top_k and a negative number for the other two mean the server's own (`rag serve` flags)."""
        try:
            # Checked here, not left to int() and the encoders: a bad value is a usage message.
            question = inputs.question_text(question)
            k = inputs.top_k(top_k, MAX_TOP_K)
            return self.engine.ask(question, top_k=k, min_confidence=inputs.min_confidence(min_confidence),
                                   short_withhold=inputs.short_withhold(short_withhold)).to_json()
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            log.exception("answering %r failed", inputs.printable(str(question))[:300])
            raise gr.Error(f"internal error ({exc.__class__.__name__}); the server log has the details") from None

    # articles -----------------------------------------------------------------------------
    def ingest_file(self, path: str | Path, progress=None) -> dict[str, Any]:
        """Add one uploaded file; raises RagError with the reason when it is refused."""
        src = Path(path)
        accepted = uploads.accept(src, src.name, self.settings.index_dir, self.settings.max_article_bytes)

        def on_progress(stage: str, done: int, total: int) -> None:
            if progress is not None and total:
                progress((done, total), desc=f"{src.name}: {stage}")

        try:
            report = self._in_background(lambda: self.engine.ingest(
                [accepted.path], progress=on_progress, embed_batch=getattr(self.settings, "upload_embed_batch", None)))
        except BaseException:
            uploads.undo(accepted)
            raise
        if report.skipped:
            uploads.undo(accepted)
            raise ArticleError(report.skipped[0][1])
        summary = report.to_json()
        summary["file"] = accepted.path.name
        if accepted.renamed:
            summary["renamed_from"] = accepted.requested
        return summary

    def _in_background(self, work):
        """Run an ingest in the upload worker: one thread, at a lower CPU priority, whose
        embedding calls yield to the questions' (rag.store.embedding.background). The caller (a
        Gradio worker) waits for it; uploads queue there one at a time."""
        import contextvars

        with self._worker_lock:
            if self._worker is None:
                from concurrent.futures import ThreadPoolExecutor

                self._worker = ThreadPoolExecutor(1, thread_name_prefix="upload-ingest",
                                                  initializer=lower_priority,
                                                  initargs=(getattr(self.settings, "upload_nice", 10),))
        ctx = contextvars.copy_context()  # Gradio's progress bar finds its event through it

        def run():
            from rag.store.embedding import background

            with background():
                return work()

        return self._worker.submit(ctx.run, run).result()

    def upload_api(self, file: str | None, progress=gr.Progress()) -> dict:
        if not file:
            raise gr.Error("no file was sent; pass one .txt, .md or .html file")
        try:
            return self.ingest_file(file, progress)
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            log.exception("ingesting %s failed", file)
            raise gr.Error(f"internal error ({exc.__class__.__name__}); the server log has the details") from None

    def upload_ui(self, files: list[str] | None, progress=gr.Progress()):
        if not files:
            raise gr.Error("choose one or more .txt, .md or .html files first")
        lines = []
        for f in files:
            name = Path(f).name
            try:
                summary = self.ingest_file(f, progress)
            except RagError as exc:
                lines.append(upload_bad_html(exc))
                continue
            except Exception as exc:
                log.exception("ingesting %s failed", f)
                lines.append(upload_bad_html(f"{name}: internal error ({exc.__class__.__name__}); "
                                             "the server log has the details"))
                continue
            lines.append(upload_ok_html(summary))
        rows, stats = self.articles_view()
        return upload_report_html(lines), rows, stats, None

    def articles_view(self):
        try:
            return articles_rows(self.engine.articles()), stats_html(self.engine.stats())
        except RagError as exc:
            return [], error_html(exc)


def lower_priority(nice: int) -> None:
    """Lower this thread's CPU priority (Linux: niceness is per thread, and the embedding
    model's OpenMP threads started from it inherit it)."""
    import os

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError) as exc:  # not Linux, or not allowed: run at normal priority
        log.info("cannot lower the upload thread's priority (%s)", exc)


def _client_key(request) -> str:
    """Who a call comes from, for rate limits: the peer address (a session id is the client's
    to choose, so it would not limit anyone)."""
    client = getattr(request, "client", None)
    return str(getattr(client, "host", None) or "unknown")
