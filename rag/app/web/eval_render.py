"""The Evaluation tab's HTML: pure functions from saved runs, comparisons and running jobs
(rag.eval.runs, rag.eval.jobs) to HTML strings.

Safety rule for this module, as for rag.app.web.render: every string that comes from a
question set, a run or a user is passed through `esc` before it becomes HTML (question sets
are uploaded by users).
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Sequence

from rag.app.web.render import esc
from rag.eval import comparison as eval_compare
from rag.eval.jobs import Job
from rag.eval.types import Dataset

ALL = "all"  # a filter that keeps every category, language or reason
ASK_PARAM = "ask"  # ?ask=<question> opens the chat with that question asked
ANSWER_SHOWN = 400  # characters of an answer shown in the failed list before "more"


def _num(v: Any, metric: str = "") -> str:
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return "–"
    return f"{v:.0f}" if metric.endswith("_chars") else f"{v:.3f}"


def change_html(metric: str, old: Any, new: Any) -> str:
    """The change from `old` to `new`: ▲ or ▼ with the difference, green when better, red when
    worse (up is better except for false abstention; answer length and confidence are neither)."""
    d = eval_compare.delta(metric, old, new)
    if d["change"] is None:
        return '<span class="rag-even">–</span>'
    if d["verdict"] == "same":
        return '<span class="rag-even">=</span>'
    arrow = "▲" if d["change"] > 0 else "▼"
    cls = {"better": "rag-better", "worse": "rag-worse"}.get(d["verdict"] or "", "rag-even")
    num = f"{d['change']:+.0f}" if metric.endswith("_chars") else f"{d['change']:+.3f}"
    return f'<span class="{cls}" data-verdict="{esc(d["verdict"] or "none")}">{arrow} {esc(num)}</span>'


def metrics_html(metrics: dict[str, Any], baseline: dict[str, Any] | None = None,
                 previous: dict[str, Any] | None = None, previous_id: str | None = None) -> str:
    """This run's metrics next to the baseline's and the previous run's, with the changes."""
    head = ["metric", "this run", "llama-index baseline", "vs baseline",
            f"previous run ({esc(previous_id)})" if previous_id else "previous run", "vs previous"]
    out = ['<table class="rag-eval-table" id="rag-eval-metrics-table"><thead><tr>',
           "".join(f"<th>{h}</th>" for h in head), "</tr></thead><tbody>"]
    for m, v in metrics.items():
        b = (baseline or {}).get(m)
        p = (previous or {}).get(m)
        out.append(f'<tr data-metric="{esc(m)}"><td>{esc(m)}</td><td>{_num(v, m)}</td>'
                   f'<td>{_num(b, m)}</td><td>{change_html(m, b, v) if baseline else "–"}</td>'
                   f'<td>{_num(p, m)}</td><td>{change_html(m, p, v) if previous else "–"}</td></tr>')
    out.append("</tbody></table>")
    if not baseline:
        out.append('<div class="rag-eval-why">No baseline in this run.</div>')
    if not previous:
        out.append('<div class="rag-eval-why">No earlier run of this question set to compare with.</div>')
    return "".join(out)


GROUP_COLUMNS = [("hit@5", "hit@5"), ("fact_recall", "fact recall"), ("answer_recall", "answer recall"),
                 ("citation_precision", "citation precision"), ("abstention_accuracy", "abstention accuracy"),
                 ("false_abstention", "false abstention"), ("unanswerable_abstention", "unanswerable abstention")]


def groups_html(by_category: dict[str, Any], by_language: dict[str, Any]) -> str:
    out = []
    for title, groups in (("By category", by_category), ("By language", by_language)):
        out.append(f"<h4>{title}</h4><table class=\"rag-eval-table\"><thead><tr><th>group</th><th>n</th>"
                   + "".join(f"<th>{h}</th>" for _, h in GROUP_COLUMNS) + "</tr></thead><tbody>")
        for g, v in (groups or {}).items():
            out.append(f"<tr><td>{esc(g)}</td><td>{int(v.get('n', 0))}</td>"
                       + "".join(f"<td>{_num(v.get(k), k)}</td>" for k, _ in GROUP_COLUMNS) + "</tr>")
        out.append("</tbody></table>")
    return "".join(out)


def expected_text(row: dict[str, Any]) -> str:
    e = row.get("expected") or {}
    if not e.get("answerable", row.get("answerable")):
        return "no answer in the articles (should abstain)"
    facts = e.get("gold_facts") or []
    return "; ".join(" | ".join(str(a) for a in f) for f in facts) or "–"


def ask_link(question: str) -> str:
    """A link that opens the chat, in a new browser tab, with `question` asked."""
    href = "?" + urllib.parse.urlencode({ASK_PARAM: question})
    return (f'<a class="rag-eval-ask" href="{esc(href)}" target="_blank" rel="noopener" '
            f'title="Ask this question in the chat">Ask in chat ↗</a>')


def failed_rows(questions: Sequence[dict[str, Any]], category: str = ALL, language: str = ALL,
                kind: str = ALL) -> list[dict[str, Any]]:
    out = []
    for r in questions:
        kinds = eval_compare.failure_kinds(r)
        if not kinds:
            continue
        if category not in (ALL, None, "") and r.get("category") != category:
            continue
        if language not in (ALL, None, "") and r.get("language") != language:
            continue
        if kind not in (ALL, None, "") and kind not in kinds:
            continue
        out.append(r)
    return out


def failed_html(questions: Sequence[dict[str, Any]], category: str = ALL, language: str = ALL,
                kind: str = ALL) -> str:
    """The failed questions that pass the filters: question (with a link to ask it in the chat),
    expected answer, our answer with its citations, and why it failed."""
    all_failed = sum(1 for r in questions if r.get("failures"))
    rows = failed_rows(questions, category, language, kind)
    out = [f'<div class="rag-eval-count">{len(rows)} of {all_failed} failed questions shown</div>',
           '<table class="rag-eval-table" id="rag-eval-failed-table"><thead><tr><th>id</th><th>question</th>'
           "<th>expected</th><th>our answer</th><th>why it failed</th></tr></thead><tbody>"]
    for r in rows:
        cites = ", ".join(f"[{int(c.get('n', 0))}] {esc(c.get('article_id'))}" for c in r.get("citations") or [])
        kinds = "".join(f'<span class="rag-kind">{esc(k)}</span>' for k in eval_compare.failure_kinds(r))
        text = str(r.get("answer") or "")
        answer = ("" if r.get("answered") else "<em>(abstained)</em> ") + esc(text[:ANSWER_SHOWN])
        if len(text) > ANSWER_SHOWN:
            answer += f"<details><summary>… {len(text) - ANSWER_SHOWN} more characters</summary>{esc(text[ANSWER_SHOWN:])}</details>"
        out.append(
            f'<tr class="rag-eval-failed" data-id="{esc(r.get("id"))}" data-kinds="{esc(" ".join(eval_compare.failure_kinds(r)))}">'
            f'<td>{esc(r.get("id"))}<div class="rag-eval-why">{esc(r.get("category"))} · {esc(r.get("language"))}</div></td>'
            f'<td class="rag-text"><div class="rag-eval-question">{esc(r.get("question"))}</div>{ask_link(str(r.get("question") or ""))}</td>'
            f'<td class="rag-text">{esc(expected_text(r))}</td>'
            f'<td class="rag-text"><div class="rag-eval-answer">{answer}</div>'
            f'<div class="rag-eval-why">cited: {cites or "nothing"}</div></td>'
            f'<td class="rag-text">{kinds}<div class="rag-eval-why">{esc("; ".join(r.get("failures") or []))}</div></td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


NO_RUN_HTML = '<div class="rag-eval-why">Run a question set, or choose a saved run.</div>'


def run_head_html(run_id: str, settings: dict[str, Any] | None) -> str:
    """The line above a run's results: its id and settings."""
    return (f'<div class="rag-eval-run-head" data-run="{esc(run_id)}">Run <b>{esc(run_id)}</b>: '
            f'{esc(eval_compare.describe_settings(settings))}</div>')


def runs_html(runs: Sequence[dict[str, Any]]) -> str:
    """The saved runs, newest first: date, settings, headline numbers."""
    if not runs:
        return '<div class="rag-eval-why">No saved runs yet.</div>'
    cols = [("answer_recall", "answer recall"), ("fact_recall", "fact recall"),
            ("abstention_accuracy", "abstention accuracy"), ("citation_precision", "citation precision")]
    out = ['<table class="rag-eval-table" id="rag-eval-runs-table"><thead><tr><th>run</th><th>date (UTC)</th>'
           "<th>settings</th>" + "".join(f"<th>{h}</th>" for _, h in cols) + "<th>failed</th><th>commit</th></tr>"
           "</thead><tbody>"]
    for r in runs:
        h = r.get("headline") or {}
        commit = (r.get("git_commit") or "")[:10]
        out.append(f'<tr data-run="{esc(r.get("id"))}"><td>{esc(r.get("id"))}</td>'
                   f'<td>{esc((r.get("time") or "").replace("T", " ").rstrip("Z"))}</td>'
                   f'<td class="rag-text">{esc(eval_compare.describe_settings(r.get("settings")))}</td>'
                   + "".join(f"<td>{_num(h.get(k), k)}</td>" for k, _ in cols)
                   + f'<td>{int(r.get("failed") or 0)} of {int(r.get("questions") or 0)}</td>'
                   f'<td><code>{esc(commit) or "–"}</code></td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def comparison_html(cmp: dict[str, Any]) -> str:
    """Two runs side by side: counts, metric changes, and each question that changed."""
    c = cmp["counts"]
    a, b = cmp.get("a", {}), cmp.get("b", {})
    out = [f'<div class="rag-eval-cmp-head">A: <b>{esc(a.get("id"))}</b> ({esc(eval_compare.describe_settings(a.get("settings")))})'
           f'<br>B: <b>{esc(b.get("id"))}</b> ({esc(eval_compare.describe_settings(b.get("settings")))})</div>',
           f'<div class="rag-eval-cmp-counts"><span class="rag-status-fixed">{c["fixed"]} fixed</span> · '
           f'<span class="rag-status-broke">{c["broke"]} broke</span> · {c["same"]} same '
           f'({cmp["still_failing"]} failing in both)</div>']
    if cmp["only_a"] or cmp["only_b"]:
        out.append(f'<div class="rag-eval-why">{len(cmp["only_a"])} questions only in A, '
                   f'{len(cmp["only_b"])} only in B (questions are matched by id)</div>')
    out.append('<table class="rag-eval-table"><thead><tr><th>metric</th><th>A</th><th>B</th><th>change</th></tr>'
               "</thead><tbody>")
    for m in cmp["metrics"]:
        out.append(f'<tr><td>{esc(m["metric"])}</td><td>{_num(m["a"], m["metric"])}</td>'
                   f'<td>{_num(m["b"], m["metric"])}</td><td>{change_html(m["metric"], m["a"], m["b"])}</td></tr>')
    out.append("</tbody></table>")
    out.append('<table class="rag-eval-table" id="rag-eval-cmp-table"><thead><tr><th>id</th><th>status</th>'
               "<th>question</th><th>answer in A</th><th>answer in B</th></tr></thead><tbody>")
    for q in cmp["questions"]:
        if q["status"] == "same" and not q["failed_b"]:
            continue  # passing in both: nothing to look at
        label = q["status"] if q["status"] != "same" else "same (failing)"
        out.append(f'<tr data-status="{esc(q["status"])}"><td>{esc(q["id"])}</td>'
                   f'<td class="rag-status-{esc(q["status"])}">{esc(label)}</td>'
                   f'<td class="rag-text">{esc(q["question"])}</td>'
                   f'<td class="rag-text">{esc(q["answer_a"])}</td><td class="rag-text">{esc(q["answer_b"])}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def progress_html(job: Job) -> str:
    """Questions done of the total, the running scores and the time left."""
    s = job.scores()
    left = job.seconds_left()
    words = {"queued": "Waiting for the evaluation before this one to finish…",
             "indexing": "Indexing the set's own articles (once per set)…",
             "baseline": "Questions done; running the llama-index baseline…",
             "saving": "Saving the run…"}
    parts = [f'<div class="rag-eval-progress" data-state="{esc(job.state)}" data-done="{job.done}" '
             f'data-total="{job.total}">',
             f'<progress class="rag-eval-bar" value="{job.done}" max="{max(1, job.total)}"></progress>',
             f"<div><b>{job.done} of {job.total}</b> questions"]
    if s["answer_recall"] is not None:
        parts.append(f" · answer recall so far {s['answer_recall']:.3f}")
    if s["abstention_accuracy"] is not None:
        parts.append(f" · abstention accuracy so far {s['abstention_accuracy']:.3f}")
    if left is not None:
        parts.append(f" · about {_duration(left)} left")
    parts.append("</div>")
    if job.state in words:
        parts.append(f'<div class="rag-eval-why">{esc(words[job.state])}</div>')
    parts.append("</div>")
    return "".join(parts)


def _duration(seconds: float) -> str:
    s = max(0, int(round(seconds)))
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


def status_html(text: str, ok: bool = True) -> str:
    return f'<div class="{"rag-eval-ok" if ok else "rag-eval-bad"}">{"✓" if ok else "✗"} {esc(text)}</div>'


def set_summary(ds: Dataset, shown_name: str) -> str:
    unans = sum(not q.answerable for q in ds.questions)
    langs = sorted({q.language for q in ds.questions})
    kind = {"ours": "our JSONL", "qa": "plain question/answer", "squad": "SQuAD", "cmrc": "CMRC 2018"}.get(
        ds.format, ds.format)
    own = f", {len(ds.articles)} articles of its own" if ds.articles is not None else ""
    return (f"{shown_name}: {len(ds.questions)} questions ({unans} unanswerable; {', '.join(langs)}), "
            f"{kind}{own}")

