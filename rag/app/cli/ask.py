"""`rag ask`: answer a question, or one per line of stdin, as text or JSON."""

from __future__ import annotations

import json
import logging
import sys

import click

from rag.app import inputs
from rag.app.cli import options
from rag.app.cli.exits import handle_errors
from rag.app.cli.options import (chroma_option, embed_options, index_dir_option, llm_options, min_confidence_option,
                                 setting_option, short_withhold_option, takes_overrides)
from rag.answer.short_answer import withheld_note
from rag.errors import QuestionError, RagError
from rag.lang import has_cjk

log = logging.getLogger("rag")


@click.command()
@click.argument("question")
@index_dir_option
@chroma_option
@embed_options
@setting_option("top_k", type=click.IntRange(1, 50))
@click.option("--retrieval", type=click.Choice(["hybrid", "vector", "bm25"]), default="hybrid", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question.")
@click.option("--details", is_flag=True, help="With --json: add highlights, retrieved passages and the reason.")
@min_confidence_option
@short_withhold_option
@llm_options
@handle_errors
@takes_overrides
def ask(question, retrieval, as_json, details, overrides):
    """Answer QUESTION; `-` reads one question per line from stdin."""
    engine = options.make_engine(**overrides)
    engine.require_index()
    engine.llm  # start a local model now: a setup error stops here, before any question
    failed = 0
    for number, q in _questions(question):
        try:
            if isinstance(q, QuestionError):
                raise q
            result = engine.ask(inputs.question_text(q), mode=retrieval)
        except RagError as exc:
            if question != "-":
                raise
            # One bad line is one error line (a JSON object with --json); the batch goes on.
            failed += 1
            shown = q if isinstance(q, str) else getattr(exc, "line", "")
            _line_error(shown, str(exc), as_json)
            continue
        except Exception as exc:
            if question != "-":
                raise
            from rag.app import logs

            failed += 1
            log.error("question on line %d failed", number, exc_info=True)
            _line_error(q, f"unexpected {exc.__class__.__name__} ({logs.where()})", as_json)
            continue
        if as_json:
            click.echo(json.dumps(result.to_json(details=details), ensure_ascii=False), nl=True)
            sys.stdout.flush()
        else:
            click.echo(render_text(result))
    engine.close()
    if failed:
        sys.exit(1)


def _questions(question: str):
    """(line number, question) pairs; a line that is not UTF-8 comes as its QuestionError, so
    that it is reported in its place and the lines after it are still answered."""
    if question != "-":
        yield 1, question
        return
    for number, raw in enumerate(sys.stdin.buffer, 1):
        try:
            text = inputs.decode_line(raw, number).strip()
        except QuestionError as exc:
            exc.line = raw.decode("utf-8", "replace").strip()  # what the user will recognise
            yield number, exc
            continue
        if text:
            yield number, text


def _line_error(question: str, message: str, as_json: bool) -> None:
    question = inputs.printable(question)[:200]
    if as_json:
        click.echo(json.dumps({"question": question, "error": message}, ensure_ascii=False))
        sys.stdout.flush()
    else:
        click.echo(f"error: {message}" + (f" ({question[:60]})" if question else ""), err=True)


def render_text(result) -> str:
    data = result.to_json(details=True)
    lines = [("" if data["answered"] else "[no answer] ") + data["answer"], ""]
    short = data.get("short_answer")
    if short:
        sep = "、" if short["items"] and has_cjk(short["text"]) else ", "
        head = sep.join(f"{i['text']} [{i['citation']}]" for i in short["items"])
        lines[0:0] = [click.style(head, bold=True), ""]
    elif data["answered"] and data.get("short_answer_withheld"):
        lines[0:0] = [f"({withheld_note(data['question'])})", ""]
    if data.get("mode") == "llm":
        kept = sum(1 for v in data["verified"] if v["supported"])
        lines[-1:] = ["", f"(written by {data['model']}; {kept} of {len(data['verified'])} sentences verified "
                          "against their passages)", ""]
    elif data.get("mode") == "extractive":
        lines[-1:] = ["", "(quoted from the articles" + (f"; {data['warning']}" if data.get("warning") else "") + ")", ""]
    for c in data["citations"]:
        lang = {"en": "English", "zh": "Chinese"}.get(c["lang"], c["lang"])
        lines.append(f"[{c['n']}] {c['title']} ({c['date'] or 'undated'}, {lang}, {c['source']})")
        lines.append("    " + c["text"].replace("\n", "\n    "))
        lines.append("")
    t = data["timings_ms"]
    conf = data.get("confidence")
    low = conf is not None and data["answered"] and conf < 0.5
    lines.append(("(LOW CONFIDENCE: check the passages; " if low else "(")
                 + (f"confidence {conf:.2f}, " if conf is not None else "")
                 + f"retrieve {t['retrieve']:.0f} ms, answer {t['answer']:.0f} ms"
                 + (f", model {t['llm']:.0f} ms" if "llm" in t else "") + ")")
    return "\n".join(lines)
