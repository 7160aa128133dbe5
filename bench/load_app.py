"""Load on a running chat app: concurrent gradio_client users asking through /ask.

    python bench/load_app.py http://127.0.0.1:7860/ [--clients 16] [--questions 5] [--auth user:pw]

Every request goes to the given URL only (use a loopback address); the run is bounded by
clients x questions requests. Prints latency percentiles; exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time

QUESTIONS = [
    "Who attended the seventh meeting?",
    "谁主持了第七次会议座谈会？",
    "Where was the fifth session held?",
    "When was the fifth joint meeting held?",
    "第七次会议在哪里举行？",
    "Who presided over the fifth session?",
]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: a value that was actually observed."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def run(url: str, clients: int = 16, per_client: int = 5, questions: list[str] = QUESTIONS,
        auth: tuple[str, str] | None = None, timeout: float = 120.0) -> dict:
    from gradio_client import Client

    latencies: list[float] = []
    results: list[dict] = []
    errors: list[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)

    def user(i: int) -> None:
        try:
            client = Client(url, auth=auth, verbose=False)
        except Exception as exc:
            with lock:
                errors.append(f"client {i}: cannot connect: {exc}")
            ready.wait()
            return
        ready.wait()
        for j in range(per_client):
            q = questions[(i + j) % len(questions)]
            t0 = time.perf_counter()
            try:
                data = client.predict(q, api_name="/ask")
            except Exception as exc:
                with lock:
                    errors.append(f"client {i} {q!r}: {exc}")
                continue
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(ms)
                results.append(data)

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    ready.wait(timeout=timeout)
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=max(1.0, timeout - (time.perf_counter() - t0)))
    wall = time.perf_counter() - t0
    if any(t.is_alive() for t in threads):
        errors.append(f"some clients were still waiting after {timeout:.0f} s")
    out = {"clients": clients, "per_client": per_client, "requests": clients * per_client,
           "ok": len(latencies), "errors": errors, "wall_s": round(wall, 2),
           "throughput_per_s": round(len(latencies) / wall, 2) if wall else 0.0, "results": results}
    if latencies:
        out.update({f"p{p}_ms": round(percentile(latencies, p), 1) for p in (50, 90, 99)})
        out["mean_ms"] = round(statistics.fmean(latencies), 1)
        out["max_ms"] = round(max(latencies), 1)
    return out


def summary_line(r: dict) -> str:
    return (f"{r['ok']}/{r['requests']} answered by {r['clients']} concurrent clients in {r['wall_s']} s "
            f"({r['throughput_per_s']}/s); latency p50 {r.get('p50_ms')} ms, p90 {r.get('p90_ms')} ms, "
            f"p99 {r.get('p99_ms')} ms, max {r.get('max_ms')} ms; {len(r['errors'])} errors")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--questions", type=int, default=5, help="questions per client")
    ap.add_argument("--auth", default=None, metavar="USER:PASSWORD")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    auth = tuple(a.auth.split(":", 1)) if a.auth else None
    r = run(a.url, a.clients, a.questions, auth=auth)
    r.pop("results")
    print(json.dumps(r, ensure_ascii=False) if a.json else summary_line(r))
    for e in r["errors"][:10]:
        print("error:", e, file=sys.stderr)
    return 1 if r["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
