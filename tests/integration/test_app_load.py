"""16 concurrent users on one real server: everything answered, no errors.

Latency percentiles are printed as a benchmark figure, not asserted: they depend on the machine.
"""

from __future__ import annotations

import importlib.util

import pytest

from rag.answer.citations import markers
from rag.config import PROJECT_ROOT

pytestmark = pytest.mark.slow


def load_bench():
    spec = importlib.util.spec_from_file_location("load_app", PROJECT_ROOT / "bench" / "load_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sixteen_concurrent_clients(app_server):
    bench = load_bench()
    alone = bench.run(app_server.url, clients=1, per_client=5, timeout=60)  # also warms the server up
    print("\n[app load] baseline: " + bench.summary_line(alone))
    assert alone["errors"] == []
    r = bench.run(app_server.url, clients=16, per_client=5, timeout=110)
    print("[app load] " + bench.summary_line(r))
    assert r["errors"] == []
    assert r["ok"] == 80 and len(r["results"]) == 80
    for data in r["results"]:
        assert data["answered"] is True, data["question"]
        assert set(markers(data["answer"])) == {c["n"] for c in data["citations"]}
