"""Asks while an upload is ingested (issue 11, case 5): a real `rag serve` process on a copy of
the shipped articles' index, one client asking in a loop, and a 100 KB article uploaded
through /upload meanwhile. Prints numbers; asserts nothing.

    .venv/bin/python -m bench.upload_load [--kb 100] [--askers 1]

About 2 minutes on 2 cores (index build, then the upload). Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import random

from bench.chat_under_load import asks_during, served_shipped_index, show
from bench.load_app import QUESTIONS


def article(kb: int, seed: int = 7) -> str:
    """About `kb` KB of distinct English news sentences (distinct, so every passage is embedded)."""
    rng = random.Random(seed)
    towns = ["Quillmarsh", "Lanternfield", "Brackenford", "Ostermoor", "Fennick Bay", "Glimmerbrook"]
    verbs = ["opened", "inspected", "approved", "debated", "funded", "postponed"]
    things = ["a ferry terminal", "the river levee", "a seed bank", "the tram line", "a solar farm", "the harbour wall"]
    lines = ["Regional council reports for the northern towns", "2024-06-01", ""]
    n = 0
    while sum(len(x) for x in lines) < kb * 1000:
        n += 1
        lines.append(f"In session {n}, the council of {rng.choice(towns)} {rng.choice(verbs)} {rng.choice(things)} "
                     f"at a cost of {rng.randint(2, 900)} million yuan, said councillor {rng.choice('ABCDEFGH')}."
                     f"{rng.randint(100, 999)} on day {rng.randint(1, 28)}.")
        if n % 6 == 0:
            lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=int, default=100)
    ap.add_argument("--askers", type=int, default=1)
    args = ap.parse_args()
    from gradio_client import Client, handle_file

    with served_shipped_index("upload-load-") as (url, work):
        client = Client(url, verbose=False)
        client.predict(QUESTIONS[0], 0, api_name="/ask")  # warm
        idle, idle_err, _ = asks_during(url, args.askers, 15)
        path = work / "regional-council.txt"
        path.write_text(article(args.kb), "utf-8")
        summary = {}

        def upload() -> None:
            summary.update(client.predict(handle_file(str(path)), api_name="/upload"))

        busy, busy_err, took = asks_during(url, args.askers, during=upload)

        print(f"upload: {path.stat().st_size / 1000:.0f} KB, {summary.get('passages_added')} passages, "
              f"{took:.1f} s with {args.askers} client(s) asking throughout")
        show("asks, idle", idle, idle_err, 22)
        show("asks, during upload", busy, busy_err, 22)


if __name__ == "__main__":
    main()
