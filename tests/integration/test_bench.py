"""The scale benchmark's corpus generator, and the benchmark itself end to end at a tiny size
(1x with 2 distractors, 10 questions), with a stand-in embedding service so that it is fast."""

import json
import re

import pytest

from bench import corpus, scale
from rag.ingest.loading import read_article
from rag.lang.anchors import anchors_in_text
from tests.support.fake_embeddings import FakeEmbeddingServer


def test_corpus_sizes_and_reproducibility(tmp_path):
    a = corpus.build(tmp_path / "a", size=10, seed=3)
    b = corpus.build(tmp_path / "b", size=10, seed=3)
    c = corpus.build(tmp_path / "c", size=10, seed=4)
    assert a["real"] == 2 and a["distractors"] == 18 and len(list((tmp_path / "a").iterdir())) == 20
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert files != sorted(p.name for p in (tmp_path / "c").iterdir())
    assert corpus.build(tmp_path / "d", size=1)["distractors"] == 0
    assert corpus.build(tmp_path / "e", distractors=2)["distractors"] == 2


def test_distractors_never_hold_the_question_sets_anchors_names_or_places(tmp_path):
    corpus.build(tmp_path / "c", size=30, seed=11)  # build() checks every article; check again here
    gold = corpus.gold_strings()
    assert "Wang Xiaohui" in gold and "袁家军" in gold and "合作机制" not in gold
    langs = set()
    for path in (tmp_path / "c").iterdir():
        if path.name.startswith(("2022-07-04_fifth", "2023-11-20_seventh")):
            continue
        text = path.read_text("utf-8")
        corpus.check_distractor(text, gold)
        anchors = anchors_in_text(text)
        assert not anchors & {"ord:3", "ord:5", "ord:7", "ord:8", "num:2022", "num:2023"}, path.name
        article = read_article(path)
        assert article.documents[0].date and article.documents[0].date[:4] not in ("2022", "2023")
        langs |= {d.lang for d in article.documents}
        # realistic: the same kind of news as the real articles
        assert re.search(r"joint meeting|forum|conference|session|symposium|联席会|论坛|协调会|座谈会", text, re.I)
    assert langs == {"en", "zh"}
    with pytest.raises(corpus.DistractorError, match="Bishan"):
        corpus.check_distractor("the delegation toured Bishan District", gold)
    with pytest.raises(corpus.DistractorError):
        corpus.check_distractor("the seventh forum", gold)


def test_benchmark_end_to_end_at_a_tiny_size(tmp_path, capsys):
    server = FakeEmbeddingServer()
    try:
        code = scale.main(["--sizes", "1", "--distractors", "2", "--limit", "10", "--raw-max", "20",
                           "--repeat", "1", "--cold-runs", "1", "--embed-url", server.url,
                           "--workdir", str(tmp_path), "--json", str(tmp_path / "r.json"),
                           "--plot", str(tmp_path / "p.png")])
    finally:
        server.close()
        import os
        os.environ.pop("RAG_EMBED_URL", None)
    assert code == 0
    out = capsys.readouterr().out
    assert "| articles / passages | 4 / " in out and "| warm ask total p50 / p95 ms |" in out
    row = json.loads((tmp_path / "r.json").read_text())["rows"][0]
    assert row["articles"] == 4 and row["passages"] > 100
    assert row["ingest"]["embedded"] == row["passages"] and row["reingest"]["embedded"] == 0
    assert row["raw_embed"]["passages"] == 20 and row["ingest_vs_raw"] > 0
    assert set(row["latency_ms"]) >= {"embed_query", "dense", "bm25", "fusion", "answer", "total"}
    assert 0 <= row["quality"]["hit@5"] <= 1 and row["baseline"]["nodes"] > 0
    assert row["serve"]["start_s"] > 0 and row["serve"]["peak_rss_mb"] > 50 and len(row["cold_ask_s"]) == 1
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
