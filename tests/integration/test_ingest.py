"""Ingest logic against real Chroma with the deterministic hash embedder: idempotence,
updates, pruning, content-hash reuse, bad files, and crash safety."""

import json
import shutil

import pytest

from rag.engine import Engine
from rag.errors import IndexMissingError
from rag.store import manifest as store
from tests.support.corpus import FIFTH, SEVENTH
from tests.support.fake_embeddings import HashEmbedding


def passage_ids(engine):
    return sorted(engine.collection.get(include=[])["ids"])


def test_first_ingest_then_reingest_adds_nothing(fake_engine, articles_copy):
    e = fake_engine()
    first = e.ingest([articles_copy])
    assert first.articles == 2 and first.passages_added > 50 and first.embedded == first.passages_added
    before = passage_ids(e)
    again = fake_engine().ingest([articles_copy])
    assert again.passages_added == 0 and again.embedded == 0 and again.passages_removed == 0
    assert again.passages_unchanged == first.passages_added
    assert passage_ids(e) == before


def test_stats_count_articles_languages_and_passages(fake_engine, articles_copy):
    e = fake_engine()
    report = e.ingest([articles_copy])
    s = e.stats()
    assert s["articles"] == 2
    assert s["documents"] == {"en": 2, "zh": 1}
    assert s["passages"] == report.passages_added
    assert s["index_bytes"] > 0


def test_changed_file_replaces_its_passages_and_reuses_unchanged_text(fake_engine, articles_copy):
    e = fake_engine()
    e.ingest([articles_copy])
    path = articles_copy / f"{FIFTH}.txt"
    text = path.read_text("utf-8")
    changed = text.replace("Chen stressed the need", "Chen strongly stressed the need")
    assert changed != text
    path.write_text(changed, "utf-8")
    r = fake_engine().ingest([articles_copy])
    assert r.articles_updated == [FIFTH]
    assert 1 <= r.passages_added <= 3 and r.passages_removed == r.passages_added
    assert r.embedded == r.passages_added  # only the changed passages are embedded
    live = set(store.load_manifest(e.settings.index_dir).live_ids())
    assert set(passage_ids(e)) == live  # the replaced passages are gone from Chroma


def test_same_text_in_another_file_is_not_embedded_again(fake_engine, articles_copy):
    e = fake_engine()
    e.ingest([articles_copy])
    shutil.copy(articles_copy / f"{FIFTH}.txt", articles_copy / "copy-of-fifth.txt")
    r = fake_engine().ingest([articles_copy])
    assert r.articles_added == ["copy-of-fifth"]
    assert r.embedded == 0 and r.embeddings_reused == r.passages_added > 0


def test_a_moved_folder_keeps_its_article_ids(fake_engine, articles_copy):
    e = fake_engine()
    e.ingest([articles_copy])
    before = passage_ids(e)
    moved = articles_copy.rename(articles_copy.with_name("moved"))
    r = fake_engine().ingest([moved], prune=True)
    assert sorted(store.load_manifest(e.settings.index_dir).articles) == sorted([FIFTH, SEVENTH])
    assert r.articles == 2 and r.articles_removed == [] and r.embedded == 0
    assert passage_ids(e) == before  # same ids, nothing embedded again
    twin = moved.with_name("elsewhere")
    twin.mkdir()
    shutil.copy(moved / f"{FIFTH}.txt", twin / f"{FIFTH}.txt")
    added = fake_engine().ingest([moved, twin])
    assert len(added.articles_added) == 1 and added.articles_added[0].startswith(FIFTH + "-")  # a namesake


def test_training_refuses_an_index_where_another_checkout_put_its_copy_of_the_articles(fake_engine, articles_copy):
    # A second checkout's training run with the same --work ingests its copy of the articles
    # beside these (ids with a suffix): its evidence, and the models, would change unseen.
    train_reader = pytest.importorskip("scripts.train_reader")
    index = fake_engine().settings.index_dir
    fake_engine().ingest([articles_copy])
    assert train_reader.foreign_articles(index, articles_copy) == []
    other = articles_copy.with_name("other-checkout")
    shutil.copytree(articles_copy, other)
    fake_engine().ingest([other])
    foreign = train_reader.foreign_articles(index, articles_copy)
    assert len(foreign) == 2 and all(aid.startswith((FIFTH + "-", SEVENTH + "-")) for aid in foreign)
    assert train_reader.foreign_articles(index.with_name("none"), articles_copy) == []


def test_prune_removes_articles_whose_files_are_gone(fake_engine, articles_copy):
    e = fake_engine()
    e.ingest([articles_copy])
    (articles_copy / f"{FIFTH}.txt").unlink()
    kept = fake_engine().ingest([articles_copy])
    assert kept.articles == 2  # without --prune nothing is removed
    pruned = fake_engine().ingest([articles_copy], prune=True)
    assert pruned.articles_removed == [FIFTH] and pruned.articles == 1
    assert all(pid.startswith(SEVENTH) for pid in passage_ids(e))


def test_binary_and_empty_files_are_reported_and_skipped(fake_engine, articles_copy):
    e = fake_engine()
    e.ingest([articles_copy])
    before = passage_ids(e)
    (articles_copy / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (articles_copy / "empty.md").write_bytes(b"")
    r = fake_engine().ingest([articles_copy])
    reasons = {f.split("/")[-1]: why for f, why in r.skipped}
    assert "binary" in reasons["photo.txt"] and "empty" in reasons["empty.md"]
    assert r.passages_added == 0 and passage_ids(e) == before
    assert fake_engine().ask("Who presided over the fifth session?", min_confidence=0.0).answer.citations


class ExplodingEmbedding(HashEmbedding):
    """Fails after a number of batches, like a crash or Ctrl-C half-way through an ingest."""

    calls: int = 0
    fail_after: int = 1

    def _get_text_embeddings(self, texts):
        self.calls += 1
        if self.calls > self.fail_after:
            raise KeyboardInterrupt("simulated Ctrl-C")
        return [self._vec(t) for t in texts]


def test_an_ingest_that_dies_half_way_leaves_the_previous_index_usable(tmp_path, articles_copy):
    settings = Engine(embed_model=HashEmbedding()).settings.replace(index_dir=tmp_path / "index", embed_batch=8)
    seventh = articles_copy / f"{SEVENTH}.txt"
    held_back = seventh.rename(tmp_path / seventh.name)
    Engine(settings, HashEmbedding()).ingest([articles_copy])
    manifest_before = (settings.index_dir / store.MANIFEST).read_text()
    good = Engine(settings, HashEmbedding()).ask("Who presided over the fifth session?", min_confidence=0.0)
    assert good.answer.answered

    held_back.rename(seventh)
    before = Engine(settings, HashEmbedding()).collection.count()
    with pytest.raises(KeyboardInterrupt):
        # Each batch of 8 passages is embedded with its sentences in several model calls.
        Engine(settings, ExplodingEmbedding(fail_after=12)).ingest([articles_copy])
    written = Engine(settings, HashEmbedding()).collection.count() - before
    assert written >= 8  # at least one batch was embedded and stored before the crash
    assert (settings.index_dir / store.MANIFEST).read_text() == manifest_before
    after = Engine(settings, HashEmbedding()).ask("Who presided over the fifth session?", min_confidence=0.0)
    assert after.to_json()["answer"] == good.to_json()["answer"]
    assert all(c.article_id == FIFTH for c in after.answer.citations)

    resumed = Engine(settings, HashEmbedding()).ingest([articles_copy])
    assert resumed.articles == 2
    assert resumed.embeddings_reused == written  # the batches written before the crash
    assert resumed.embedded == resumed.passages_added - written
    live = set(store.load_manifest(settings.index_dir).live_ids())
    assert set(Engine(settings, HashEmbedding()).collection.get(include=[])["ids"]) == live


def test_missing_index_says_to_run_ingest(fake_engine):
    with pytest.raises(IndexMissingError, match="rag ingest"):
        fake_engine().ask("Who attended?")


def test_broken_manifest_says_how_to_rebuild(fake_engine, articles_copy):
    e = fake_engine()
    e.ingest([articles_copy])
    (e.settings.index_dir / store.MANIFEST).write_text("{not json")
    from rag.errors import IndexBrokenError
    with pytest.raises(IndexBrokenError, match="rag ingest"):
        fake_engine().ask("Who attended?")


def test_a_second_writer_is_refused(fake_engine, articles_copy):
    from rag.errors import IndexBusyError
    e = fake_engine()
    with store.ingest_lock(e.settings.index_dir):
        with pytest.raises(IndexBusyError):
            e.ingest([articles_copy])


def test_changed_chunking_rechunks_everything(fake_engine, articles_copy):
    e = fake_engine()
    first = e.ingest([articles_copy])
    r = fake_engine(chunk_tokens=100).ingest([articles_copy])
    assert r.passages_added > first.passages_added
    manifest = json.loads((e.settings.index_dir / store.MANIFEST).read_text())
    assert manifest["chunking"]["chunk_tokens"] == 100


def test_a_lost_bm25_index_is_rebuilt_by_the_next_ingest(fake_engine, articles_copy):
    from rag.errors import IndexBrokenError
    e = fake_engine()
    e.ingest([articles_copy])
    manifest = store.load_manifest(e.settings.index_dir)
    shutil.rmtree(e.settings.index_dir / manifest.bm25)
    with pytest.raises(IndexBrokenError, match="rag ingest"):
        fake_engine().ask("Who presided over the fifth session?", min_confidence=0.0)
    r = fake_engine().ingest([articles_copy])
    assert r.passages_added == 0 and r.embedded == 0
    assert fake_engine().ask("Who presided over the fifth session?", min_confidence=0.0).answer.answered
