"""Comparing two evaluation runs (results.json as rag.eval.report writes it): pure functions.

Per question (by id), `fixed` (failed in A, passes in B), `broke` (passed in A, fails in B) or
`same`; per metric, the change and whether it is better or worse. A question fails when
rag.eval.scoring.failure_reasons gave it any reason. `rag eval --compare` and the app's
Evaluation tab show the same comparison (render_comparison).
"""

from __future__ import annotations

from typing import Any

# Lower is better for these; a change in the others of rag.eval.scoring.NOT_GATED is neither.
LOWER_IS_BETTER = ("false_abstention",)
NEUTRAL = ("median_answer_chars", "mean_confidence_answerable", "mean_confidence_unanswerable")


def direction(metric: str) -> int:
    """+1 when higher is better, -1 when lower is better, 0 when neither."""
    if metric in NEUTRAL:
        return 0
    return -1 if metric in LOWER_IS_BETTER else 1


def delta(metric: str, a: Any, b: Any) -> dict[str, Any]:
    """The change from a to b: value, and whether it is better, worse or equal (None when either
    is undefined or the metric has no better direction)."""
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return {"change": None, "verdict": None}
    change = b - a
    d = direction(metric)
    if abs(change) < 1e-9:
        verdict = "same"
    elif d == 0:
        verdict = None
    else:
        verdict = "better" if change * d > 0 else "worse"
    return {"change": change, "verdict": verdict}


def failed(row: dict[str, Any]) -> bool:
    return bool(row.get("failures"))


# Why a question failed, in the words the app's filter uses (a question may have several).
KINDS = {
    "abstained": "abstained on an answerable question",
    "wrong fact": "answered, but without every expected fact",
    "wrong source": "no gold passage retrieved, or cited passages from other articles",
    "should have abstained": "answered a question the articles do not answer",
}


def failure_kinds(row: dict[str, Any]) -> list[str]:
    """The kinds (KINDS) of a failed row of results.json; [] for a question that passed."""
    if not failed(row):
        return []
    answerable, answered = row.get("answerable"), row.get("answered")
    kinds = []
    if answerable and not answered:
        kinds.append("abstained")
    if not answerable and answered:
        kinds.append("should have abstained")
    if answerable and answered and row.get("fact_recall") is not None and row["fact_recall"] < 1:
        kinds.append("wrong fact")
    cite = row.get("citation_precision")
    if answerable and (row.get("hit@5") == 0.0 or (answered and cite is not None and cite < 1)):
        kinds.append("wrong source")
    return kinds or ["other"]


def compare_results(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Question by question (by id) and metric by metric, from results A to results B."""
    rows_a = {r["id"]: r for r in a.get("questions", [])}
    rows_b = {r["id"]: r for r in b.get("questions", [])}
    questions = []
    counts = {"fixed": 0, "broke": 0, "same": 0}
    for qid, rb in rows_b.items():
        ra = rows_a.get(qid)
        if ra is None:
            continue
        fa, fb = failed(ra), failed(rb)
        status = "fixed" if fa and not fb else "broke" if fb and not fa else "same"
        counts[status] += 1
        questions.append({"id": qid, "status": status, "failed_a": fa, "failed_b": fb,
                          "question": rb.get("question") or ra.get("question") or "",
                          "category": rb.get("category"), "language": rb.get("language"),
                          "answer_a": ra.get("answer"), "answer_b": rb.get("answer"),
                          "answered_a": ra.get("answered"), "answered_b": rb.get("answered"),
                          "failures_a": ra.get("failures") or [], "failures_b": rb.get("failures") or []})
    order = {"broke": 0, "fixed": 1, "same": 2}
    questions.sort(key=lambda q: (order[q["status"]], not q["failed_b"]))
    ma, mb = a.get("metrics", {}), b.get("metrics", {})
    names = list(dict.fromkeys([*ma, *mb]))
    metrics = [{"metric": m, "a": ma.get(m), "b": mb.get(m), **delta(m, ma.get(m), mb.get(m))} for m in names]
    return {"counts": counts, "still_failing": sum(q["failed_b"] for q in questions if q["status"] == "same"),
            "questions": questions, "metrics": metrics,
            "only_a": sorted(set(rows_a) - set(rows_b)), "only_b": sorted(set(rows_b) - set(rows_a)),
            "set_a": (a.get("set") or {}).get("name"), "set_b": (b.get("set") or {}).get("name")}


def compare_runs(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """compare_results of two loaded runs (load_run), with their ids and settings."""
    out = compare_results(a["results"], b["results"])
    out["a"] = {"id": a["id"], "settings": a["meta"].get("settings"), "time": a["meta"].get("time")}
    out["b"] = {"id": b["id"], "settings": b["meta"].get("settings"), "time": b["meta"].get("time")}
    return out


def _fmt(v: Any, metric: str = "") -> str:
    if not isinstance(v, (int, float)):
        return "–"
    return f"{v:.0f}" if metric.endswith("_chars") else f"{v:.3f}"


def _fmt_change(d: dict[str, Any], metric: str = "") -> str:
    c = d["change"]
    if c is None:
        return "–"
    if abs(c) < 1e-9:
        return "="
    arrow = "▲" if c > 0 else "▼"
    num = f"{c:+.0f}" if metric.endswith("_chars") else f"{c:+.3f}"
    mark = {"better": " better", "worse": " worse"}.get(d["verdict"] or "", "")
    return f"{arrow} {num}{mark}"


def describe_settings(s: dict[str, Any] | None) -> str:
    s = s or {}
    parts = [f"{s.get('name') or s.get('file') or '?'} ({s.get('questions', '?')} questions)",
             f"retrieval {s.get('retrieval', '?')}", f"top_k {s.get('top_k', '?')}"]
    if s.get("min_confidence") is not None:
        parts.append(f"min confidence {s['min_confidence']:g}")
    if "short_withhold" in s:  # runs saved before it was recorded have no such key
        w = s["short_withhold"]
        parts.append("short answers never withheld" if w is None else f"short-answer withhold factor {w:g}")
    if s.get("answers") and s["answers"] != "extractive":
        parts.append(str(s["answers"]))
    return ", ".join(parts)


def render_comparison(cmp: dict[str, Any], markdown: bool = False, limit: int | None = None) -> str:
    """The comparison as terminal text (`rag eval --compare`) or Markdown. `limit`: at most that
    many questions per status (fixed and broke are listed first; `same` ones that pass are not)."""
    a, b = cmp.get("a", {}), cmp.get("b", {})
    c = cmp["counts"]
    lines = []
    if markdown:
        lines += [f"# Comparison: {a.get('id', 'A')} → {b.get('id', 'B')}", ""]
    lines.append(f"A: {a.get('id', '?')}  {describe_settings(a.get('settings'))}")
    lines.append(f"B: {b.get('id', '?')}  {describe_settings(b.get('settings'))}")
    lines.append(f"questions: {c['fixed']} fixed, {c['broke']} broke, {c['same']} same "
                 f"({cmp['still_failing']} of them failing in both)")
    if cmp["only_a"] or cmp["only_b"]:
        lines.append(f"not in both runs: {len(cmp['only_a'])} only in A, {len(cmp['only_b'])} only in B")
    if cmp.get("set_a") != cmp.get("set_b"):
        lines.append(f"note: different question sets ({cmp.get('set_a')} vs {cmp.get('set_b')}); "
                     "questions are matched by id")
    lines.append("")
    if markdown:
        lines += ["| metric | A | B | change |", "|---|---:|---:|---|"]
        for m in cmp["metrics"]:
            lines.append(f"| {m['metric']} | {_fmt(m['a'], m['metric'])} | {_fmt(m['b'], m['metric'])} | "
                         f"{_fmt_change(m, m['metric'])} |")
    else:
        lines.append(f"{'metric':<30}{'A':>9}{'B':>9}  change")
        for m in cmp["metrics"]:
            lines.append(f"{m['metric']:<30}{_fmt(m['a'], m['metric']):>9}{_fmt(m['b'], m['metric']):>9}  "
                         f"{_fmt_change(m, m['metric'])}")
    lines.append("")
    for status in ("broke", "fixed"):
        qs = [q for q in cmp["questions"] if q["status"] == status]
        if not qs:
            continue
        lines.append(("## " if markdown else "") + f"{status} ({len(qs)})")
        for q in qs[:limit]:
            why = q["failures_b"] if status == "broke" else q["failures_a"]
            text = " ".join(str(q["question"]).split())
            text = text if len(text) <= 100 else text[:99] + "…"
            lines.append(f"{'- ' if markdown else '  '}{q['id']}: {text}" + (f" ({'; '.join(why)})" if why else ""))
        if limit is not None and len(qs) > limit:
            lines.append(f"  … {len(qs) - limit} more")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


__all__ = ["compare_runs", "compare_results", "render_comparison", "delta", "direction", "describe_settings",
           "failure_kinds", "KINDS"]
