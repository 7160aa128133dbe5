"""The results of a run laid out: the table `rag eval` prints, report.md with its chart, and
results.json. Presentation only: every number is already in the result (rag.eval.runner)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from rag.eval.baseline import BASELINE_METRICS, BASELINE_TOP_K
from rag.eval.scoring import GROUP_METRICS, METRIC_ORDER

log = logging.getLogger(__name__)

FAILURES_SHOWN = 12  # ids in the printed table; a public set fails by the dozen, report.md lists all


def fmt(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def fmt_metric(name: str, v: float | None, digits: int = 3) -> str:
    return fmt(v, 0) if name.endswith("_chars") else fmt(v, digits)


def comparison_rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(metric, ours, baseline) for the metrics both pipelines have, plus context size."""
    base = (result.get("baseline") or {}).get("metrics")
    rows = []
    for m in ("hit@1", "hit@2", "hit@3", "hit@5", "mrr", "ndcg@5", "context_fact_recall", *BASELINE_METRICS[5:]):
        b = "–" if base is None else (fmt_metric(m, base[m]) if m in base else f"n/a (top-{BASELINE_TOP_K})")
        rows.append((m, fmt_metric(m, result["metrics"][m]), b))
    rows.append(("context chars (mean)", fmt(result["context_chars"], 0),
                 "–" if base is None else fmt(base["context_chars"], 0)))
    return rows


def ingest_line(s: dict[str, Any]) -> str:
    i = s["ingested"]
    return (f"index of `{s['articles']}`: {i['articles']} articles, {i['passages_added']} passages added, "
            f"{i['passages_unchanged']} unchanged; {i['embedded']} embedded, {i['embeddings_reused']} reused; "
            f"{i['seconds']:.1f} s")


def render_table(result: dict[str, Any]) -> str:
    """The compact plain-text summary printed by `rag eval`."""
    s = result["set"]
    lines = [f"{s['questions']} questions ({s['answerable']} answerable) from {s['file']}; "
             f"retrieval={s['retrieval']} top_k={s['top_k']} chunk_tokens={s['chunk_tokens']}; {s['seconds']:.1f} s", ""]
    if s.get("ingested"):
        lines[-1:] = [ingest_line(s).replace("`", ""), ""]
    if s.get("answer_modes"):
        m = s["answer_modes"]
        lines[-1:] = [f"answers: {s['answers']}: {m['llm']} by the model, {m['extractive']} extractive "
                      f"({m['model_failed']} model failures); {m['sentences_supported']} of {m['sentences']} "
                      "generated sentences verified", ""]
    base = result.get("baseline")
    cmp = {m: (o, b) for m, o, b in comparison_rows(result)}
    lines.append(f"{'metric':<30}{'ours':>8}{'baseline' if base else '':>18}")
    for m in METRIC_ORDER:
        o, b = cmp.get(m, (fmt_metric(m, result["metrics"][m]), ""))
        lines.append(f"{m:<30}{o:>8}{b if base else '':>18}")
    if base:
        lines.append(f"{'context chars (mean)':<30}{cmp['context chars (mean)'][0]:>8}{cmp['context chars (mean)'][1]:>18}")
    lines.append("")
    cols = [("hit@5", "hit@5"), ("mrr", "MRR"), ("fact_recall", "facts"), ("context_fact_recall", "ctx"),
            ("answer_recall", "ans"), ("support", "supp"), ("citation_precision", "cite"),
            ("abstention_accuracy", "abst"), ("false_abstention", "f.abst"), ("unanswerable_abstention", "u.abst"),
            ("exact_match", "EM"), ("f1", "F1"), ("median_answer_chars", "chars")]
    lines.append(f"{'group':<14}{'n':>5}" + "".join(f"{h:>7}" for _, h in cols))
    for groups in (result["by_category"], result["by_language"]):
        for g, v in groups.items():
            lines.append(f"{g:<14}{v['n']:>5}" + "".join(f"{fmt_metric(k, v.get(k), 2):>7}" for k, _ in cols))
    lines.append("")
    lat = result["latency_ms"]
    lines.append("latency ms  " + "  ".join(f"{st} {fmt(v['p50'], 1)}/{fmt(v['p95'], 1)}" for st, v in lat.items())
                 + "  (p50/p95)")
    fails = result["failures"]
    shown = ", ".join(fails[:FAILURES_SHOWN]) + (f", … {len(fails) - FAILURES_SHOWN} more in the report"
                                                 if len(fails) > FAILURES_SHOWN else "")
    lines.append(f"failed questions: {len(fails)}" + (f" ({shown})" if fails else ""))
    return "\n".join(lines)


CHART_MISSING = "chart not drawn: matplotlib is not installed (pip install 'newsrag[eval]' to get it)"


def write_chart(result: dict[str, Any], path: Path) -> Path | None:
    """Grouped bars of the per-category and per-language scores (Agg backend: no display).
    None when matplotlib is missing: it is an extra (`eval`), and the plain install must still
    write the rest of the report."""
    try:
        import matplotlib
    except ImportError:
        log.warning("%s", CHART_MISSING)
        return None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    groups = {**result["by_category"], **{f"lang:{k}": v for k, v in result["by_language"].items()}}
    names = list(groups)
    series = [("hit@5", "hit@5"), ("fact_recall", "fact recall"), ("answer_recall", "answer recall"), ("context_fact_recall", "context fact recall"),
              ("citation_precision", "citation precision"), ("abstention_accuracy", "abstention accuracy")]
    x = np.arange(len(names))
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(names) + 2), 4.8), dpi=110)
    for i, (key, label) in enumerate(series):
        vals = [groups[g][key] for g in names]
        ax.bar(x + (i - (len(series) - 1) / 2) * width, [np.nan if v is None else v for v in vals], width, label=label)
    ax.set_xticks(x, [f"{g}\n(n={groups[g]['n']})" for g in names], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    s = result["set"]
    ax.set_title(f"Scores by category and language (retrieval={s['retrieval']}, top_k={s['top_k']}, "
                 f"{s['questions']} questions)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=len(series), loc="upper center", bbox_to_anchor=(0.5, -0.16))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def render_markdown(result: dict[str, Any], chart_name: str | None, gate: dict[str, Any] | None = None) -> str:
    s = result["set"]
    out = ["# Evaluation report", "",
           f"- question set: `{s['file']}`: {s['questions']} questions, {s['answerable']} answerable, "
           f"{s['unanswerable']} unanswerable",
           f"- engine: retrieval `{s['retrieval']}`, top_k {s['top_k']}, chunk_tokens {s['chunk_tokens']}, "
           f"index `{s['index_dir']}`; run took {s['seconds']:.1f} s"]
    if s.get("ingested"):
        out.append(f"- {ingest_line(s)}")
    if s.get("answer_modes"):
        m = s["answer_modes"]
        out.append(f"- answers: {s['answers']}: {m['llm']} by the model (verified sentences), {m['extractive']} "
                   f"extractive ({m['model_failed']} model failures); {m['sentences_supported']} of "
                   f"{m['sentences']} generated sentences passed verification")
    out.append("")
    if s["gold_articles_missing"]:
        out += [f"**Warning**: gold articles missing from the index: {', '.join(s['gold_articles_missing'])}", ""]
    if gate is not None:
        out.append("## Threshold gate: " + ("passed" if gate["passed"] else "FAILED"))
        out.append("")
        for f in gate["failed"]:
            out.append(f"- `{f['metric']}` = {fmt(f['value'])} < {f['minimum']}")
        out.append("")
    base = result.get("baseline")
    out += ["## Overall", "", "| metric | ours |" + (" llama-index baseline |" if base else ""),
            "|---|---:|" + ("---:|" if base else "")]
    cmp = {m: (o, b) for m, o, b in comparison_rows(result)}
    for m in METRIC_ORDER:
        o, b = cmp.get(m, (fmt_metric(m, result["metrics"][m]), "–"))
        out.append(f"| {m} | {o} |" + (f" {b} |" if base else ""))
    if base:
        o, b = cmp["context chars (mean)"]
        out.append(f"| context chars (mean) | {o} | {b} |")
        c = base["config"]
        out += ["", f"Baseline: {c['splitter']}; {c['retriever']}; {c['vector_store']}; embedding "
                f"`{c['embed_model']}`; {c['nodes']} nodes from {c['documents']}. Its hit@3 and hit@5 equal its "
                f"hit@2 since it retrieves 2 passages; its nDCG@5 is over those 2. Its answer is its top passage "
                f"(no reader: what the pipeline shows), which is also its only citation, and it never abstains."]
    out += ["", "Definitions: a retrieved passage is relevant if it contains any gold span (white space, "
            "quotes and case normalised). Retrieval metrics and fact recall are means over answerable "
            "questions; fact recall of an abstention is 0. Citation precision: answered questions whose cited "
            "passages all come from gold articles. Fact support: cited passages (of answered questions) "
            "holding a gold fact the answer states. Marker validity: [n] markers that resolve to a listed "
            "citation (all answers). Abstention: positive class = answered. Answer recall: a gold answer occurs "
            "in the answer after SQuAD normalisation (case, punctuation, a/an/the; white space for Chinese), "
            "0 for an abstention; support: the same in a cited passage (0 for an abstention); support_retrieved: "
            "in any retrieved passage. false_abstention: answerable questions abstained on; "
            "unanswerable_abstention: unanswerable questions abstained on. median_answer_chars: over answered "
            "questions, markers removed. For sets without gold passages (SQuAD, CMRC) a passage is relevant "
            "when it holds a gold answer.", ""]
    heads = {"hit@1": "hit@1", "hit@5": "hit@5", "mrr": "MRR", "ndcg@5": "nDCG@5", "fact_recall": "fact recall",
             "context_fact_recall": "context fact recall", "answer_recall": "answer recall", "support": "support",
             "citation_precision": "citation precision", "abstention_accuracy": "abstention accuracy",
             "false_abstention": "false abstention", "unanswerable_abstention": "unanswerable abstention", "exact_match": "EM", "f1": "F1",
             "median_answer_chars": "median answer chars"}
    out += ["## By category and language", "",
            "| group | n | " + " | ".join(heads[m] for m in GROUP_METRICS) + " |",
            "|---|---:|" + "---:|" * len(GROUP_METRICS)]
    for groups in (result["by_category"], {f"lang: {k}": v for k, v in result["by_language"].items()}):
        for g, v in groups.items():
            out.append(f"| {g} | {v['n']} | " + " | ".join(fmt_metric(m, v.get(m), 2) for m in GROUP_METRICS) + " |")
    if chart_name:
        out += ["", f"![scores by category]({chart_name})"]
    out += ["", "## Latency (ms)", "", "| stage | p50 | p95 | n |", "|---|---:|---:|---:|"]
    for st, v in result["latency_ms"].items():
        out.append(f"| {st} | {fmt(v['p50'], 1)} | {fmt(v['p95'], 1)} | {v['n']} |")
    fails = [r for r in result["questions"] if r["failures"]]
    out += ["", f"## Failed questions ({len(fails)})", ""]
    if not fails:
        out.append("None.")
    for r in fails:
        e = r["expected"]
        out += [f"### {r['id']} ({r['category']}, {r['language']}): {_md_escape(r['question'])}", "",
                "- why: " + "; ".join(r["failures"]),
                f"- expected: {'answerable' if e['answerable'] else 'unanswerable'}"
                + (f"; facts {' / '.join('|'.join(f) for f in e['gold_facts'])}" if e["gold_facts"] else "")
                + (f"; articles {', '.join(e['gold_articles'])}" if e["gold_articles"] else ""),
                ]
        if e["gold_passages"]:
            out.append("- gold spans: " + " · ".join(f"“{_md_escape(p)}”" for p in e["gold_passages"]))
        if r.get("mode"):
            out.append(f"- mode: {r['mode']}" + (f"; warning: {_md_escape(r['warning'])}" if r.get("warning") else ""))
        out.append(f"- got ({'answered' if r['answered'] else 'abstained'}"
                   + (f", reason: {r['reason']}" if r.get("reason") and not r["answered"] else "")
                   + f"): {_md_escape(_short(r['answer'], 700))}")
        out.append("- cited articles: " + (", ".join(f"[{c['n']}] {c['article_id']}" for c in r["citations"]) or "none"))
        ret = ", ".join(f"{i}. {h['id']}{' ✓' if rel else ''}" for i, (h, rel) in
                        enumerate(zip(r["retrieved"], r["relevant"]), 1))
        out.append(f"- retrieved (✓ = holds a gold span; {r['n_relevant']} such passages indexed): {ret or 'nothing'}")
        out.append("")
    return "\n".join(out) + "\n"


def write_report(result: dict[str, Any], out_dir: Path, gate: dict[str, Any] | None = None) -> dict[str, Path]:
    """report.md, scores_by_category.png (when matplotlib is installed; else "chart" is None)
    and results.json in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    chart = write_chart(result, out_dir / "scores_by_category.png")
    md = out_dir / "report.md"
    text = render_markdown(result, chart.name if chart else None, gate)
    if chart is None:
        text = text.replace("\n## Latency (ms)", f"\n_{CHART_MISSING}._\n\n## Latency (ms)", 1)
    md.write_text(text, "utf-8")
    js = out_dir / "results.json"
    js.write_text(json.dumps(to_json(result, gate), ensure_ascii=False, indent=1), "utf-8")
    return {"report": md, "chart": chart, "json": js}


def to_json(result: dict[str, Any], gate: dict[str, Any] | None = None) -> dict[str, Any]:
    """The machine-readable result; the retrieved passages' texts are left out (ids stay)."""
    slim = dict(result)
    slim["questions"] = [{**r, "retrieved": [{k: v for k, v in h.items() if k != "text"} for h in r["retrieved"]]}
                         for r in result["questions"]]
    slim["gate"] = gate
    return slim
