"""The browser chat app (Gradio): a thin layer over rag.engine.Engine.

Safety rule for this module: every string that comes from an article or a user is passed
through `esc` before it becomes HTML, and the chatbot renders our HTML as-is (no Markdown),
so article text can neither inject markup nor be reinterpreted as Markdown links. The
chatbot's own sanitizer stays on as a second line of defence.

Endpoints for programs (gradio_client):
    /ask     question (, top_k) -> the JSON of `rag ask --json`
    /upload  one .txt/.md/.html file (gradio_client.handle_file) -> the ingest summary
    /evaluate, /eval_runs, /eval_result, /eval_compare: the Evaluation tab (rag/app/web/eval_tab.py)
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import gradio as gr

from rag.app import feedback

from rag.app import inputs

from rag.ingest import uploads

from rag.answer import spans
from rag.answer.citations import MARKER_RE
from rag.config import DEFAULT_ARTICLES, DEFAULT_INDEX_DIR, Settings
from rag.generate.grounded import Draft
from rag.errors import ArticleError, IndexBusyError, IndexMissingError, QuestionError, RagError
from rag.lang import has_cjk

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
# Asks are thread-safe in the engine and take tens of milliseconds of CPU; 8 at once keeps
# a shared instance responsive without letting one burst starve the machine.
CONCURRENCY = 8
MAX_TOP_K = 20
DRAFT_INTERVAL = 0.12  # seconds between two renderings of the model's draft
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".markdown"]

EXAMPLES = [
    "Who attended the seventh meeting?",
    "谁主持了第七次会议座谈会？",
    "Where was the fifth session held?",
    "When was the fifth joint meeting held?",
    "第七次会议在哪里举行？",
]

LANG_NAMES = {"en": "English", "zh": "Chinese"}

CSS = """
.rag-question { white-space: normal; }
.rag-answer-text { line-height: 1.6; }
.rag-answer-text a.rag-marker { text-decoration: none; font-weight: 600; padding: 0 1px;
  color: var(--color-accent); }
.rag-answer-text a.rag-marker:hover { text-decoration: underline; }
.rag-badge { display: inline-block; font-size: 0.8em; font-weight: 700; letter-spacing: .02em;
  padding: 2px 10px; border-radius: 999px; margin-bottom: 6px;
  background: #fef3c7; color: #92400e; border: 1px solid #f59e0b; }
.rag-abstained .rag-answer-text { font-style: italic; opacity: .85; }
.rag-error { color: #b91c1c; }
.rag-pending { opacity: .7; font-style: italic; }
.rag-sources { margin-top: 10px; }
.rag-sources > summary { cursor: pointer; font-weight: 600; font-size: .9em; opacity: .8; }
.rag-cite { border-left: 3px solid var(--color-accent); padding: 4px 10px; margin: 8px 0;
  border-radius: 4px; background: var(--background-fill-secondary); scroll-margin-top: 80px; }
.rag-abstained .rag-cite { border-left-color: #f59e0b; }
.rag-cite:target { outline: 2px solid var(--color-accent); }
.rag-cite-head { font-weight: 600; font-size: .95em; line-height: 1.35; }
.rag-cite-n { color: var(--color-accent); margin-right: 4px; }
.rag-cite-meta { font-size: .8em; opacity: .75; margin: 2px 0 4px; }
.rag-cite-text { font-size: .92em; line-height: 1.5; }
.rag-cite-text mark { background: rgba(250, 204, 21, .45); color: inherit; padding: 0 1px; border-radius: 2px; }
.rag-p { display: block; height: .45em; }
.rag-timing { font-size: .75em; opacity: .6; margin-top: 6px; }
.rag-mode { font-size: .8em; opacity: .8; margin-top: 6px; }
.rag-confidence { font-size: .8em; opacity: .75; margin-bottom: 4px; }
.rag-confidence.rag-low { opacity: 1; color: #b45309; font-weight: 600; }
.rag-warning { font-size: .85em; color: #92400e; margin-top: 6px; }
.rag-checking { background: #e0f2fe; color: #075985; border-color: #38bdf8; }
.rag-draft-text { opacity: .65; font-style: italic; }
#rag-articles td, #rag-articles th { font-family: var(--font); }
.rag-upload-ok { color: #15803d; }
.rag-upload-bad { color: #b91c1c; }
.rag-short-answer { font-size: 1.08em; margin: 2px 0 6px; }
.rag-cite-text mark.rag-short { background: rgba(34, 197, 94, .45); font-weight: 600; }
"""


# --- rendering: pure functions, everything escaped --------------------------------------------
def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def text_html(text: str) -> str:
    """Escaped text with its line breaks kept (innerHTML would collapse them)."""
    paragraphs = re.split(r"\n[ \t]*\n\s*", text.replace("\r\n", "\n"))
    return '<span class="rag-p"></span>'.join(esc(p).replace("\n", "<br>") for p in paragraphs)


def merge_spans(spans: list, length: int) -> list[tuple[int, int]]:
    clean = sorted((max(0, int(s)), min(length, int(e))) for s, e in spans if int(e) > int(s))
    merged: list[tuple[int, int]] = []
    for s, e in clean:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        elif s < e:
            merged.append((s, e))
    return merged


def highlight_html(text: str, spans: list, strong: list | None = None) -> str:
    """`text` escaped, with the character spans `spans` wrapped in <mark> and the spans of
    `strong` (a short answer) in <mark class="rag-short">."""
    marked, short = merge_spans(spans, len(text)), merge_spans(strong or [], len(text))
    cuts = sorted({0, len(text)} | {x for s in marked + short for x in s})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        piece = text_html(text[a:b])
        if any(s <= a and b <= e for s, e in short):
            piece = f'<mark class="rag-short">{piece}</mark>'
        elif any(s <= a and b <= e for s, e in marked):
            piece = f"<mark>{piece}</mark>"
        out.append(piece)
    return "".join(out)


def link_markers(escaped: str, anchors: dict[int, str]) -> str:
    """Turn each [n] of already-escaped text into a link to its passage."""
    def sub(m: re.Match) -> str:
        n = int(m.group(1))
        target = anchors.get(n)
        if target is None:
            return m.group(0)
        return f'<a class="rag-marker" href="#{target}" title="passage {n}">[{n}]</a>'
    return MARKER_RE.sub(sub, escaped)


def answer_chunks(answer: str) -> list[str]:
    """The answer cut after each run of citation markers: the units it streams in."""
    parts = [p for p in re.split(r"(?<=\])\s*(?=[^\[\s.,;:!?。，；：！？)）])", answer.strip()) if p]
    return parts or [answer]


def citation_html(c: dict[str, Any], anchor: str, show_scores: bool, strong: list | None = None) -> str:
    lang = LANG_NAMES.get(c.get("lang"), c.get("lang") or "")
    meta = [c.get("date") or "undated", lang, c.get("source") or ""]
    if show_scores and c.get("score") is not None:
        meta.append(f"score {float(c['score']):.3f}")
    return (f'<div class="rag-cite" id="{esc(anchor)}">'
            f'<div class="rag-cite-head"><span class="rag-cite-n">[{int(c["n"])}]</span>{esc(c.get("title"))}</div>'
            f'<div class="rag-cite-meta">{" · ".join(esc(m) for m in meta if m)}</div>'
            f'<div class="rag-cite-text">{highlight_html(c.get("text") or "", c.get("highlights") or [], strong)}</div>'
            f'</div>')


def answer_html(result: dict[str, Any], msg_id: str, show_scores: bool = False, upto: int | None = None) -> str:
    """One assistant message: the answer with linked [n] markers, then the cited passages.

    `upto` shows only the first `upto` chunks of the answer (while it streams in)."""
    citations = result.get("citations", [])
    anchors = {int(c["n"]): f"{msg_id}-c{int(c['n'])}" for c in citations}
    answered = bool(result.get("answered"))
    text = result.get("answer", "")
    if upto is not None:
        text = " ".join(answer_chunks(text)[:upto]) + " …"
    parts = [f'<div class="rag-answer {"rag-answered" if answered else "rag-abstained"}">']
    if not answered:
        parts.append('<div class="rag-badge">No answer in the articles</div>')
    elif upto is None:
        parts.append(confidence_html(result.get("confidence")))
    short = result.get("short_answer") if answered else None
    if short:
        parts.append(short_html(short, anchors))
    parts.append(f'<div class="rag-answer-text">{link_markers(text_html(text), anchors)}</div>')
    if upto is None and result.get("mode"):
        parts.append(mode_html(result))
    if upto is None and citations:
        label = "Sources" if answered else "Closest passages"
        parts.append(f'<details class="rag-sources" open><summary>{label} ({len(citations)})</summary>')
        strong: dict[int, list] = {}
        for item in (short or {}).get("items", []):
            strong.setdefault(int(item["citation"]), []).append((item["start"], item["end"]))
        parts += [citation_html(c, anchors[int(c["n"])], show_scores, strong.get(int(c["n"])))
                  for c in citations]
        parts.append("</details>")
    if upto is None and show_scores and result.get("timings_ms"):
        t = result["timings_ms"]
        parts.append(f'<div class="rag-timing">retrieval {float(t.get("retrieve", 0)):.0f} ms · '
                     f'answer {float(t.get("answer", 0)):.0f} ms</div>')
    parts.append("</div>")
    return "".join(parts)


def short_html(short: dict[str, Any], anchors: dict[int, str]) -> str:
    """The short answer, in bold, each item with its linked citation: shown before the sentences."""
    cjk = any(has_cjk(i["text"]) for i in short.get("items", []))
    items = []
    for i in short.get("items", []):
        marker = link_markers(f"[{int(i['citation'])}]", anchors)
        items.append(f'<strong>{esc(i["text"])}</strong> {marker}')
    return f'<div class="rag-short-answer">{("、" if cjk else ", ").join(items)}</div>'


# Under this confidence an answer is shown with a warning to check its sources.
LOW_CONFIDENCE = 0.5


def confidence_html(confidence: Any) -> str:
    """The reader's confidence that the evidence answers the question, marked when low."""
    if confidence is None:
        return ""
    c = float(confidence)
    if c < LOW_CONFIDENCE:
        return (f'<div class="rag-confidence rag-low" data-confidence="{c:.2f}">⚠ Low confidence '
                f'({c:.0%}): check the cited passages</div>')
    return f'<div class="rag-confidence" data-confidence="{c:.2f}">Confidence {c:.0%}</div>'


def mode_html(result: dict[str, Any]) -> str:
    """Which mode answered (only when a language model is configured), and any warning."""
    checks = result.get("verified") or []
    if result.get("mode") == "llm":
        kept = sum(1 for v in checks if v.get("supported"))
        line = (f'Written by {esc(result.get("model") or "the language model")} from the passages · '
                f'citations checked: {kept} of {len(checks)} sentences kept')
    else:
        line = "Quoted from the articles (extractive answer)"
    out = f'<div class="rag-mode" data-mode="{esc(result.get("mode"))}">{line}</div>'
    if result.get("warning"):
        out += f'<div class="rag-warning">⚠ {esc(result["warning"])}</div>'
    return out


def draft_html(draft: str) -> str:
    """The model's unverified text while it is written: marked as a draft under check."""
    return ('<div class="rag-draft"><div class="rag-badge rag-checking">Draft · checking citations…</div>'
            f'<div class="rag-answer-text rag-draft-text">{text_html(draft)}</div></div>')


def question_html(question: str) -> str:
    return f'<div class="rag-question">{text_html(question)}</div>'


def turn_messages(turn: dict[str, Any], show_scores: bool) -> list[dict[str, str]]:
    if turn.get("error"):
        reply = f'<div class="rag-error">⚠ {text_html(turn["error"])}</div>'
    elif turn.get("result") is None and turn.get("draft"):
        reply = draft_html(turn["draft"])
    elif turn.get("result") is None:
        reply = '<div class="rag-pending">Searching the articles…</div>'
    else:
        reply = answer_html(turn["result"], turn["id"], show_scores, turn.get("upto"))
    return [{"role": "user", "content": question_html(turn["question"])},
            {"role": "assistant", "content": reply}]


def chat_messages(turns: list[dict[str, Any]], show_scores: bool) -> list[dict[str, str]]:
    return [m for t in turns for m in turn_messages(t, show_scores)]


def articles_rows(articles: list[dict[str, Any]]) -> list[list[Any]]:
    # The table shows plain text (Dataframe cells of type "str" are not HTML).
    return [[a["title"], a.get("date") or "", ", ".join(LANG_NAMES.get(lang, lang) for lang in a.get("langs", [])),
             a.get("passages", 0), a.get("source", "")] for a in articles]


def stats_html(stats: dict[str, Any]) -> str:
    docs = stats.get("documents", {})
    langs = ", ".join(f"{LANG_NAMES.get(k, k)} {v}" for k, v in docs.items() if v)
    return (f'<div>{int(stats.get("articles", 0))} articles (language versions: {esc(langs) or "none"}), '
            f'{int(stats.get("passages", 0))} passages, index {float(stats.get("index_bytes", 0)) / 1e6:.1f} MB '
            f'in <code>{esc(stats.get("index_dir"))}</code></div>')


def history_entry(turn: dict[str, Any]) -> str:
    """An earlier turn as the engine reads it for a follow-up: the question and its short
    answer, so that "it" in "When was it built?" can be what the last answer named."""
    short = (turn.get("result") or {}).get("short_answer")
    return f'{turn["question"]} {short["text"]}' if short else turn["question"]


# --- the app ---------------------------------------------------------------------------------
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
             min_confidence: float | None = None) -> Iterator:
        turns = list(turns or [])
        try:
            question = self.engine.validate_question(inputs.question_text(message))
            top_k = inputs.top_k(top_k, MAX_TOP_K) or min(MAX_TOP_K, self.settings.top_k)
            floor = _confidence_setting(min_confidence)
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
            extra = {"min_confidence": floor} if floor is not None else {}
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

    def default_min_confidence(self) -> float:
        try:
            return float(self.engine.min_confidence())
        except Exception:  # no model file: the engine says so on the first question
            log.warning("reader model not loaded", exc_info=True)
            return 0.0

    # API ----------------------------------------------------------------------------------
    def ask_api(self, question: str, top_k: int = 0) -> dict:
        """Answer a question about the articles (top_k: passages to retrieve, 0 for the server's
        default). Returns the JSON of `rag ask --json`: question, answer (with [n] markers),
        answered, confidence, citations, timings_ms. The server's minimum confidence applies
        (`rag serve --min-confidence`)."""
        try:
            # Checked here, not left to int() and the encoders: a bad value is a usage message.
            question = inputs.question_text(question)
            k = inputs.top_k(top_k, MAX_TOP_K)
            return self.engine.ask(question, top_k=k).to_json()
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
                                                  initializer=_lower_priority,
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
                s = self.ingest_file(f, progress)
            except RagError as exc:
                lines.append(f'<li class="rag-upload-bad">✗ {esc(exc)}</li>')
                continue
            except Exception as exc:
                log.exception("ingesting %s failed", f)
                lines.append(f'<li class="rag-upload-bad">✗ {esc(name)}: internal error '
                             f'({esc(exc.__class__.__name__)}); the server log has the details</li>')
                continue
            if s["articles_added"] or s["articles_updated"]:
                verb = "added" if s["articles_added"] else "updated"
                what = f'{verb}: {s["passages_added"]} new passages, ready for questions'
            else:
                what = "already in the index, unchanged"
            if s.get("renamed_from"):
                what += (f' (an article named {esc(s["renamed_from"])} is already in the index, so this one '
                         f'was stored as {esc(s["file"])}; delete the old file to replace it)')
            lines.append(f'<li class="rag-upload-ok">✓ {esc(s["file"])}: {what}</li>')
        rows, stats = self.articles_view()
        return f"<ul>{''.join(lines)}</ul>", rows, stats, None

    def articles_view(self):
        try:
            return articles_rows(self.engine.articles()), stats_html(self.engine.stats())
        except RagError as exc:
            return [], f'<div class="rag-error">{esc(exc)}</div>'


def build_app(engine, settings: Settings | None = None, *, stream_delay: float = 0.04) -> gr.Blocks:
    """The Blocks of the app, queued for CONCURRENCY simultaneous users. Launch it with `launch`."""
    app = ChatApp(engine, settings, stream_delay)
    top_k_default = min(MAX_TOP_K, app.settings.top_k)
    max_mb = app.settings.max_article_bytes / 1e6

    llm_label = getattr(engine, "llm_label", None) if getattr(app.settings, "llm_configured", False) else None
    if llm_label:
        intro = (f"Answers are written by {llm_label} from the retrieved passages. Each sentence's citation is "
                 "checked against its passage before it is shown; sentences that fail are left out, and when "
                 "none pass, sentences quoted from the articles are shown instead.")
    else:
        intro = "Answers are sentences quoted from the articles; each [n] links to the passage it comes from."
    with gr.Blocks(title="News articles: questions and answers", analytics_enabled=False) as demo:
        gr.Markdown("## Questions about the news articles\n" + intro)
        turns = gr.State([])
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row():
                    with gr.Column(scale=4):
                        chatbot = gr.Chatbot(
                            label="Conversation", show_label=False, elem_id="rag-chat", height="72vh",
                            min_height=420, layout="panel",
                            render_markdown=False, sanitize_html=True, latex_delimiters=[],
                            examples=[{"text": q} for q in EXAMPLES],
                            placeholder="Ask about the news articles, in English or Chinese. Try one of these:",
                        )
                        with gr.Row():
                            box = gr.Textbox(placeholder="Ask a question about the articles…", show_label=False,
                                             scale=5, autofocus=True, elem_id="rag-question", max_lines=4)
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="rag-ask")
                    with gr.Column(scale=1, min_width=220):
                        gr.Markdown("### Settings")
                        top_k = gr.Slider(1, MAX_TOP_K, value=top_k_default, step=1, label="Passages retrieved (top-k)")
                        show_scores = gr.Checkbox(False, label="Show retrieval scores")
                        min_conf = gr.Slider(0.0, 1.0, value=round(app.default_min_confidence(), 3), step=0.005,
                                             label="Minimum confidence to answer", elem_id="rag-min-confidence",
                                             info="Below it the tool says the articles do not answer")
                        clear = gr.Button("New conversation")
                        gr.Markdown("Follow-up questions such as *Where was it held?* use the earlier "
                                    "questions of this conversation. Use the thumbs under an answer to tell us whether it helped.")
            with gr.Tab("Articles", id="articles") as articles_tab:
                stats = gr.HTML()
                table = gr.Dataframe(headers=["Title", "Date", "Languages", "Passages", "File"],
                                     datatype=["str", "str", "str", "number", "str"], interactive=False,
                                     wrap=True, elem_id="rag-articles",
                                     column_widths=["46%", "11%", "13%", "9%", "21%"])
                gr.Markdown(f"### Add articles\n.txt, .md or .html, up to {max_mb:.0f} MB each. They are "
                            "indexed right away and can be asked about when the upload finishes.")
                files = gr.File(file_count="multiple", file_types=UPLOAD_TYPES, label="Article files",
                                elem_id="rag-upload")
                add = gr.Button("Add to the index", variant="primary", elem_id="rag-add")
                upload_status = gr.HTML(elem_id="rag-upload-status")
            from rag.app.web import eval_tab

            eval_tab.build(app, app.settings, llm_label, getattr(app.settings, "upload_nice", 10))

        # Programs upload one file at a time through these: kept out of sight in the page.
        with gr.Column(visible=False):
            api_file = gr.File(file_count="single")  # types checked by uploads.accept, with a clearer message
            api_summary = gr.JSON()
            api_trigger = gr.Button()

        ask_inputs = [box, turns, top_k, show_scores, min_conf]
        ask_outputs = [chatbot, turns, box]
        # One pool of CONCURRENCY slots for every way of asking, browser or API.
        asking = dict(concurrency_limit=CONCURRENCY, concurrency_id="ask")
        box.submit(app.chat, ask_inputs, ask_outputs, api_visibility="private", **asking)
        send.click(app.chat, ask_inputs, ask_outputs, api_visibility="private", **asking)
        chatbot.example_select(_example_text, None, box, api_visibility="private", queue=False).then(
            app.chat, ask_inputs, ask_outputs, api_visibility="private", **asking)
        chatbot.like(app.like, [turns], None, api_visibility="private")
        chatbot.clear(lambda: [], None, turns, api_visibility="private", queue=False)
        clear.click(lambda: ([], []), None, [chatbot, turns], api_visibility="private", queue=False)
        show_scores.change(chat_messages, [turns, show_scores], chatbot, api_visibility="private", queue=False)

        add.click(app.upload_ui, [files], [upload_status, table, stats, files], api_visibility="private",
                  concurrency_limit=1, concurrency_id="ingest")
        api_trigger.click(app.upload_api, [api_file], [api_summary], api_name="upload",
                          concurrency_limit=1, concurrency_id="ingest")
        gr.api(app.ask_api, api_name="ask", **asking)
        eval_tab.wire_chat_link(demo)  # ?ask=QUESTION links from the Evaluation tab
        demo.load(app.articles_view, None, [table, stats], api_visibility="private")
        articles_tab.select(app.articles_view, None, [table, stats], api_visibility="private")

    demo.queue(default_concurrency_limit=CONCURRENCY)
    return demo


def _eval_css() -> str:
    from rag.app.web.eval_tab import CSS as EVAL_CSS

    return EVAL_CSS


def _lower_priority(nice: int) -> None:
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


def _confidence_setting(value: Any) -> float | None:
    """A minimum confidence from the UI or the API: None (the server's default) for nothing or a
    negative number; a usage error for anything that is not a number from 0 to 1."""
    if value is None or value == "":
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise QuestionError(f"min_confidence must be a number from 0 to 1, not {str(value)[:40]!r}") from None
    if v != v or v > 1:
        raise QuestionError(f"min_confidence must be a number from 0 to 1, not {value!r}")
    return None if v < 0 else v


def _example_text(evt: gr.SelectData) -> str:
    return evt.value["text"] if isinstance(evt.value, dict) else str(evt.value)


def launch(demo: gr.Blocks, settings: Settings, host: str = DEFAULT_HOST, port: int | None = DEFAULT_PORT,
           auth: tuple[str, str] | None = None, block: bool = False) -> str:
    """Start the server; returns its URL. With block=True, serves until interrupted."""
    checker = None
    if auth:
        checker = login_checker(auth[0], auth[1], getattr(settings, "login_failures", 5),
                                getattr(settings, "login_lockout", 30.0))
    _, url, _ = demo.launch(
        server_name=host, server_port=port, auth=checker, prevent_thread_lock=True, quiet=True,
        css=CSS + _eval_css(), ssr_mode=False, share=False, inbrowser=False,
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
        spans.warm_up()  # jieba's dictionary, for the first Chinese short answer
    except RagError:
        pass
    except Exception:
        log.exception("warm-up failed (the first question will try again)")


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
    print(f"Chat app running at {url} (Ctrl+C to stop)", flush=True)
    if block:
        try:
            demo.block_thread()
        except KeyboardInterrupt:
            pass
        finally:
            demo.close()
            engine.close()
    return url
