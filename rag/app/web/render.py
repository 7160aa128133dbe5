"""The chat's HTML: pure functions from the engine's results (their JSON) to HTML strings.

Safety rule for this module: every string that comes from an article or a user is passed
through `esc` before it becomes HTML, and the chatbot renders our HTML as-is (no Markdown),
so article text can neither inject markup nor be reinterpreted as Markdown links. The
chatbot's own sanitizer stays on as a second line of defence.
"""

from __future__ import annotations

import html
import re
from typing import Any

from rag.answer.citations import MARKER_RE
from rag.answer.short_answer import withheld_note
from rag.lang import has_cjk

LANG_NAMES = {"en": "English", "zh": "Chinese"}


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
    elif answered and result.get("short_answer_withheld") and upto is None:
        parts.append(f'<div class="rag-short-withheld">{esc(withheld_note(result.get("question", "")))}</div>')
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
    answer, so that "it" in "When was it built?" can be what the last answer named. A list is
    left out: "it" is one thing, and sixteen names after "Who attended the seventh meeting?"
    outweigh the meeting that "Where was it held?" asks about."""
    short = (turn.get("result") or {}).get("short_answer")
    if not short or short.get("kind") == "list":
        return turn["question"]
    return f'{turn["question"]} {short["text"]}'


def upload_ok_html(s: dict[str, Any]) -> str:
    """One uploaded file's line: what its ingest did (`s`: ChatApp.ingest_file's summary)."""
    if s["articles_added"] or s["articles_updated"]:
        verb = "added" if s["articles_added"] else "updated"
        what = f'{verb}: {s["passages_added"]} new passages, ready for questions'
    else:
        what = "already in the index, unchanged"
    if s.get("renamed_from"):
        what += (f' (an article named {esc(s["renamed_from"])} is already in the index, so this one '
                 f'was stored as {esc(s["file"])}; delete the old file to replace it)')
    return f'<li class="rag-upload-ok">✓ {esc(s["file"])}: {what}</li>'


def upload_bad_html(reason: Any) -> str:
    return f'<li class="rag-upload-bad">✗ {esc(reason)}</li>'


def upload_report_html(lines: list[str]) -> str:
    return f"<ul>{''.join(lines)}</ul>"


def error_html(message: Any) -> str:
    return f'<div class="rag-error">{esc(message)}</div>'
