"""`rag eval`: score a question set, save the run, or compare two saved runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rag.app.cli.exits import handle_errors
from rag.app.cli.index import ingest_bars
from rag.app.cli.options import (chroma_option, embed_options, index_dir_option, llm_options, min_confidence_option,
                                 short_withhold_option, takes_overrides)
from rag.config import Settings

BASELINE_MAX_QUESTIONS = 300


@click.command("eval")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@index_dir_option
@chroma_option
@embed_options
@click.option("--retrieval", type=click.Choice(["hybrid", "vector", "bm25"]), default="hybrid", show_default=True)
# Not the top_k setting: a run's top_k is part of what it measures, so it is 5 unless given here.
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
@short_withhold_option
@llm_options
@handle_errors
@takes_overrides
def eval_(file, retrieval, top_k, report_dir, baseline, thresholds, limit, seed, corpus_dir, as_json, save, compare,
          overrides):
    """Score answers, citations, abstention and retrieval on a question set (default eval/questions.jsonl):
    ours (JSONL), SQuAD v1.1/v2.0, CMRC 2018, or plain CSV/JSONL with question and answer(s).

    Our set and plain sets use the index (built from data/articles when it is empty); SQuAD and
    CMRC sets get their own index of their own articles, kept under --corpus-dir for the next
    run. Exit 1 when --thresholds are not met. Each run is saved under <index-dir>/eval-runs/
    (unless --no-save); --compare RUN_A RUN_B compares two of them."""
    from rag.engine import Engine
    from rag.eval import comparison, report
    from rag.eval import runs as eval_runs
    from rag.eval.corpus import corpus_settings
    from rag.eval.datasets import load_dataset, sample
    from rag.eval.gate import check_thresholds, load_thresholds
    from rag.eval.runner import DEFAULT_QUESTIONS, evaluate

    if compare:
        if file:
            raise click.UsageError("--compare takes two saved runs, not a question set")
        runs_at = Settings.from_env(**overrides).index_dir
        a, b = (eval_runs.load_run(eval_runs.resolve_run(runs_at, name)) for name in compare)
        cmp = comparison.compare_runs(a, b)
        click.echo(json.dumps(cmp, ensure_ascii=False) if as_json else comparison.render_comparison(cmp), nl=as_json)
        return
    path = file or DEFAULT_QUESTIONS
    # Everything the user gave is checked before anything is built or run.
    dataset = load_dataset(path)
    questions = sample(dataset.questions, limit, seed)
    limits = load_thresholds(thresholds) if thresholds else None
    if baseline is None:
        baseline = len(questions) <= BASELINE_MAX_QUESTIONS
        if not baseline:
            click.echo(f"note: no llama-index baseline for {len(questions)} questions (over "
                       f"{BASELINE_MAX_QUESTIONS}); pass --baseline to run it", err=True)
    settings = Settings.from_env(**overrides)
    runs_at = settings.index_dir  # runs are kept with the user's index, also for a set with its own
    # A set with its own articles (SQuAD, CMRC) gets its own index (and Chroma collection).
    settings, articles, refresh = corpus_settings(dataset, settings, corpus_dir)
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
        result = evaluate(engine, questions, mode=retrieval, top_k=top_k, baseline=baseline,
                          articles=articles, progress=progress, source=str(path), refresh_index=refresh,
                          ingest_progress=ingest_progress, dataset=dataset)
    finally:
        close_bars()
        if bar is not None:
            bar.close()
        engine.close()
    gate = check_thresholds(result, limits) if limits is not None else None
    paths = report.write_report(result, report_dir, gate)
    run_dir = None
    if save:
        run_dir = eval_runs.save_run(result, runs_at, eval_runs.run_settings(
            result, source="cli", limit=limit, seed=seed), gate)
    if as_json:
        click.echo(json.dumps(report.to_json(result, gate), ensure_ascii=False))
        if run_dir is not None:
            click.echo(f"run saved: {run_dir}", err=True)
    else:
        click.echo(report.render_table(result))
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
                click.echo(f"  {f['metric']}: {report.fmt(f['value'])} < {f['minimum']}", err=True)
            sys.exit(1)
