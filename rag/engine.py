"""The one API that the CLI, the web app and the evaluation call.

    engine = Engine(Settings.from_env())
    engine.ingest([Path("data/articles")])
    result = engine.ask("Who attended the seventh meeting?")
    result.to_json()
"""

from __future__ import annotations

import logging
import re
import threading
import time

import numpy as np
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from rag.answer import extractive as answering

from rag.answer import reader

from rag.answer import spans

from rag.store import manifest as store
from rag.answer.extractive import Answer
from rag.store.bm25 import BM25Index
from rag.config import DEFAULT_ARTICLES, Settings, prepare_process
from rag.errors import IndexBrokenError, IndexMissingError, PassagesMissingError, QuestionError
from rag.ingest.pipeline import IngestReport, Ingestor, Lazy, Progress
from rag.answer.questions import Question, analyse
from rag.retrieve.hybrid import Hit, Mode, Retriever
from rag.lang.tokenization import tokenize

if TYPE_CHECKING:
    from rag.generate.grounded import Draft  # noqa: F401

log = logging.getLogger(__name__)

_LIST_ITEM = re.compile(r"^\s*([-•*·–—]|\d{1,2}[.)、]|[（(][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}、)")


@dataclass
class Evidence:
    text: str
    q: Question
    hits: list[Hit]
    qvec: Any  # the question's e5 vector (numpy)
    missing_what: str | None  # what the question names that no article holds
    groups: list[set[str]] | None  # one set of articles per anchor, for a comparison of events
    timings: dict[str, float]
    lexicon: Any


@dataclass
class Result:
    question: str
    answer: Answer
    timings_ms: dict[str, float]
    analysis: Question | None = None
    retrieved: list[Hit] = field(default_factory=list)
    # Set only when a language model is configured (rag/generate/grounded.py): which mode answered,
    # each generated sentence with its check, and why the model's answer was not used.
    mode: str | None = None
    verified: list[dict[str, Any]] | None = None
    warning: str | None = None
    model: str | None = None
    draft: str = ""

    def to_json(self, details: bool = False) -> dict[str, Any]:
        d = {
            "question": self.question,
            "answer": self.answer.text,
            "answered": self.answer.answered,
            "confidence": None if self.answer.confidence is None else round(self.answer.confidence, 4),
            "short_answer": self.answer.short.to_json() if self.answer.short is not None else None,
            "citations": [c.to_json(with_highlights=details) for c in self.answer.citations],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
        if self.mode is not None:
            d["mode"] = self.mode
            d["verified"] = self.verified or []
            d["warning"] = self.warning
            d["model"] = self.model
        if details:
            if self.mode is not None:
                d["draft"] = self.draft  # the model's raw reply, before verification
            d["reason"] = self.answer.reason
            d["sentences"] = self.answer.sentences
            d["retrieved"] = [{"id": h.id, "article_id": h.article_id, "lang": h.lang, "score": round(h.score, 5),
                               "dense": h.dense, "bm25": h.bm25} for h in self.retrieved]
        return d


class _Snapshot:
    """What a query reads: the committed manifest and the structures built from it."""

    def __init__(self, manifest: store.Manifest, mtime: float, bm25: BM25Index | None, retriever: Retriever):
        self.manifest = manifest
        self.mtime = mtime
        self.bm25 = bm25
        self.retriever = retriever
        self.articles_with: dict[str, set[str]] = {}  # phrase -> articles holding it (Engine._articles_with)
        # anchor -> articles holding it: built once per snapshot, so a question's anchor lookup
        # costs O(articles with that anchor), not a pass over every article.
        self.anchors: dict[str, set[str]] = {}
        for aid, art in manifest.articles.items():
            for a in art.get("anchors", []):
                self.anchors.setdefault(a, set()).add(aid)


class Engine:
    def __init__(self, settings: Settings | None = None, embed_model=None, llm=None):
        prepare_process()  # an entry point for library users: offline tiktoken, no telemetry
        self.settings = settings or Settings.from_env()
        self._embed_model = embed_model
        self._llm = llm  # rag.generate.client.ChatLLM (or anything with .stream and .label); made from settings on first use
        self._llm_made = llm is not None
        self._client = None
        self._collection = None
        self._snapshot: _Snapshot | None = None
        self._lock = threading.RLock()
        self._sentence_vectors: dict[str, Any] = {}
        # The manifest's mtime when this process's Chroma client last read the disk; when the
        # manifest on disk differs, another process wrote the index and the client is reopened.
        self._store_mtime: float | None = None
        self._retired = None  # the chromadb System replaced at the last reopen (stopped at the next)
        self._ingesting = 0  # ingests running in this process (they write through our own client)

    # -- parts, loaded on first use and kept for the life of the process --------------------
    @property
    def embed_model(self):
        if self._embed_model is None:
            with self._lock:
                if self._embed_model is None:
                    if self.settings.embed_url:
                        from rag.store.embedding import OpenAIEmbeddingService

                        self._embed_model = OpenAIEmbeddingService(
                            self.settings.embed_url, self.settings.embed_model, self.settings.embed_prefixes,
                            request_batch=self.settings.embed_batch)
                    else:
                        from rag.store.embedding import make_embedding

                        self._embed_model = make_embedding("e5", self.settings.embed_threads,
                                                           self.settings.embed_batch)
        return self._embed_model

    @property
    def llm(self):
        """The configured language model, or None: extractive answers only."""
        with self._lock:
            if not self._llm_made:
                from rag.generate.client import make_llm

                self._llm = make_llm(self.settings)
                self._llm_made = True
            return self._llm

    @property
    def llm_label(self) -> str | None:
        llm = self.llm
        return None if llm is None else getattr(llm, "label", "language model")

    def close(self) -> None:
        """Stop what the engine started (a local llama.cpp server)."""
        with self._lock:
            if self._llm is not None and hasattr(self._llm, "close"):
                self._llm.close()

    @property
    def embed_model_name(self) -> str:
        """The embedding model's name, without loading the built-in model for it."""
        if self._embed_model is None and not self.settings.embed_url:
            from rag.config import E5_MODEL_ID

            return E5_MODEL_ID
        return self.embed_model.model_name

    @property
    def collection(self):
        with self._lock:
            if self._collection is None:
                self._store_mtime = self._manifest_mtime()
                self._client = store.open_client(self.settings)
                name = store.collection_name(self.settings, self.embed_model.model_name)
                try:
                    self._collection = self._client.get_or_create_collection(
                        name, metadata={"hnsw:space": "cosine"})
                except Exception as exc:
                    raise IndexBrokenError(
                        f"the Chroma collection {name!r} cannot be opened ({exc.__class__.__name__}); "
                        f"run `rag ingest --index-dir {self.settings.index_dir}` to repair it") from exc
            return self._collection

    def _manifest_mtime(self) -> float:
        try:
            return (self.settings.index_dir / store.MANIFEST).stat().st_mtime
        except FileNotFoundError:
            return -1.0

    def _reopen_if_written_elsewhere(self, mtime: float, writer: bool = False) -> None:
        """Reopen Chroma when another process changed the index since our client read it (see
        store.detach_client). Called with self._lock held. While this process ingests, only
        the ingest itself (`writer`, under the ingest lock) may reopen: a question must not
        swap the client under the writer's feet."""
        if self._collection is None or (self._ingesting and not writer) or mtime == self._store_mtime:
            return
        log.info("the index was changed by another process: reopening it")
        old = store.detach_client(self.settings)
        store.retire(self._retired)  # replaced one reload ago: no question still reads it
        self._retired = old
        self._client = self._collection = None

    def _new_store(self):
        """A collection in a new Chroma store, after an ingest moved a damaged one aside."""
        with self._lock:
            self._store_mtime = None
            self._reopen_if_written_elsewhere(self._manifest_mtime(), writer=True)
            store.detach_client(self.settings)  # also when this engine had not opened it yet
            self._client = self._collection = None
            return self.collection

    def _writable_collection(self):
        """The collection an ingest writes, called under the ingest lock: up to date with what
        other processes wrote, so that our writes do not go through a stale vector index."""
        with self._lock:
            self._reopen_if_written_elsewhere(self._manifest_mtime(), writer=True)
            return self.collection

    def _current(self) -> _Snapshot:
        """The snapshot for the manifest on disk; reloaded when another process re-ingested.

        A question never reads a half-written index: the manifest changes only after every
        vector it names is in Chroma, and the reload waits (a few seconds at most) until the
        writer has also finished removing what the new manifest no longer names; while it
        has not, questions keep the previous snapshot, which is whole."""
        with self._lock:
            mtime = self._manifest_mtime()
            if self._snapshot is not None and self._snapshot.mtime == mtime:
                return self._snapshot
            if self._snapshot is not None and not self._ingesting and mtime != self._store_mtime:
                return self._reload()
            return self._load_snapshot(mtime)

    def _reload(self, force: bool = False) -> _Snapshot:
        """Reopen Chroma and rebuild the snapshot once no ingest is writing (see _current).
        `force`: even when the manifest did not change (Chroma changed under a question)."""
        with self._lock, store.no_writer(self.settings.index_dir) as free:
            if not free and self._snapshot is not None:
                return self._snapshot
            mtime = self._manifest_mtime()
            if force and not self._ingesting:
                self._store_mtime = None  # whatever the manifest says, our client's view is stale
            self._reopen_if_written_elsewhere(mtime)
            return self._load_snapshot(mtime)

    def _load_snapshot(self, mtime: float) -> _Snapshot:
        with self._lock:
            manifest = store.require_manifest(self.settings.index_dir)
            if manifest.embed_model and manifest.embed_model != self.embed_model.model_name:
                raise IndexBrokenError(
                    f"the index was built with {manifest.embed_model}, not {self.embed_model.model_name}; "
                    "run `rag ingest` again to re-embed")
            bm25 = None
            if manifest.bm25:
                try:
                    bm25 = BM25Index.load(self.settings.index_dir / manifest.bm25)
                except Exception as exc:
                    raise IndexBrokenError(
                        f"the BM25 index {manifest.bm25} is unreadable ({exc}); run `rag ingest` to rebuild it") from exc
            retriever = Retriever(self.collection, bm25, self.embed_model, set(manifest.live_ids()), self.settings)
            self._snapshot = _Snapshot(manifest, mtime, bm25, retriever)
            return self._snapshot

    # -- the three operations ------------------------------------------------------------------
    def ingest(self, paths: list[Path] | None = None, prune: bool = False,
               progress: Progress | None = None, repair: bool = False,
               embed_batch: int | None = None) -> IngestReport:
        paths = paths or [DEFAULT_ARTICLES]
        # The model and Chroma are opened only when there is something to embed or write: an
        # ingest of unchanged files reads the manifest, hashes the files and stops.
        with self._lock:
            self._ingesting += 1
        try:
            settings = self.settings.replace(embed_batch=embed_batch)  # smaller steps for a background ingest
            report = Ingestor(settings, Lazy(lambda: self.embed_model), Lazy(self._writable_collection),
                              progress, model_name=self.embed_model_name, repair=repair,
                              reopen=self._new_store).run(paths, prune)
        finally:
            with self._lock:
                self._ingesting -= 1
                self._snapshot = None
                if self._collection is not None:
                    self._store_mtime = self._manifest_mtime()  # what we wrote, our client has seen
        return report

    def validate_question(self, question: str) -> str:
        q = (question or "").strip()
        if not q:
            raise QuestionError("the question is empty; type a question about the articles")
        if len(q) > self.settings.max_question_chars:
            raise QuestionError(f"the question is {len(q):,} characters long; the limit is "
                                f"{self.settings.max_question_chars:,}. Ask something shorter")
        return q

    def ask(self, question: str, top_k: int | None = None, history: list[str] | None = None,
            mode: Mode | str = Mode.HYBRID, llm: bool = True, min_confidence: float | None = None) -> Result:
        """Answer `question`. `history` holds earlier questions of the conversation, oldest first.
        With a language model configured (and `llm`), the answer is generated and verified."""
        result = None
        for item in self.ask_stream(question, top_k, history, mode, llm, min_confidence):
            result = item
        assert isinstance(result, Result)
        return result

    def ask_stream(self, question: str, top_k: int | None = None, history: list[str] | None = None,
                   mode: Mode | str = Mode.HYBRID, llm: bool = True,
                   min_confidence: float | None = None) -> Iterator["Draft | Result"]:
        """Like `ask`, but first yields a `Draft` (the model's unverified text so far) each time the
        language model sends more; the last item is always the Result."""
        try:
            result, hard_abstention = self._extractive(question, top_k, history, mode, min_confidence)
        except PassagesMissingError:
            # Another process changed the index while this question read it (its snapshot was
            # current when the question began): ask again on a fresh view. When the passages
            # are still missing, the store has lost them, and the error says to repair it.
            self._reload(force=True)
            result, hard_abstention = self._extractive(question, top_k, history, mode, min_confidence)
        model = self.llm if llm else None
        if model is None:
            yield result
            return
        result.mode, result.verified, result.model = "extractive", [], self.llm_label
        if hard_abstention:  # the evidence does not answer the question: nothing to generate from
            yield result
            return
        from rag.generate.grounded import Generated, generate
        from rag.generate.verify import thresholds_for

        lang = result.analysis.lang if result.analysis else "en"
        thresholds = thresholds_for(getattr(self.embed_model, "model_name", None), self.settings.verify_threshold)
        for item in generate(model, result.question, lang, result.retrieved, result.answer, self._text_vectors,
                             thresholds, self.settings.llm_context, self.settings.llm_max_tokens, history,
                             self.settings.llm_timeout):
            if isinstance(item, Generated):
                result.answer = item.answer
                result.mode, result.verified, result.warning = item.mode, item.verified, item.warning
                result.draft = item.draft
                result.timings_ms.update(item.timings_ms)
                yield result
                return
            yield item

    def evidence(self, question: str, top_k: int | None = None, history: list[str] | None = None,
                 mode: Mode | str = Mode.HYBRID) -> "Evidence":
        """What the reader reads for `question`: its analysis, the retrieved passages, the query
        vector, and what the question names that no article holds (then nothing is read)."""
        text = self.validate_question(question)
        mode = Mode.parse(mode)
        top_k = top_k or self.settings.top_k
        if top_k < 1 or top_k > 50:
            raise QuestionError("top-k must be between 1 and 50")
        snap = self._current()
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        previous = None
        for h in (history or [])[-3:]:
            if h and h.strip():
                previous = analyse(h, previous)
        q = analyse(text, previous)
        query = f"{q.context} {text}".strip() if q.context else text

        articles = None
        groups = None
        missing_what = None
        if q.anchors:
            by_anchor = {a: set(snap.anchors.get(a, ())) for a in q.anchors}
            missing = [a for a, arts in by_anchor.items() if not arts]
            common = set.intersection(*by_anchor.values())
            if missing:
                missing_what = " ".join(q.anchor_text[a] for a in sorted(missing))
            elif common:
                articles = sorted(common)
            else:
                # Each anchor is in some article but none holds them all: a comparison of two events.
                articles = sorted(set.union(*by_anchor.values()))
                groups = [by_anchor[a] for a in sorted(by_anchor)]
        unknown = [n for n in q.names if snap.bm25 is not None
                   and any(snap.bm25.idf(t) is None for t in tokenize(n))]
        if not unknown and q.phrases:
            named = {p: self._articles_with(p, snap) for p in q.phrases}
            unknown = [p for p, arts in named.items() if not arts]
            if not unknown and not missing_what:
                # A full name works like an anchor: the article that answers "what did Chen Min'er
                # say" names him. Without this, a distractor's sentence that matches the rest of
                # the question ("said that the two sides should focus on ...") wins in a large
                # corpus (docs/PERFORMANCE.md). Names in different articles: a comparison, keep all.
                sets = list(named.values())
                with_names = set.intersection(*sets) or set.union(*sets)
                if articles is None:
                    articles = sorted(with_names)
                elif set(articles) & with_names:
                    articles = sorted(set(articles) & with_names)
        if unknown and not missing_what:
            missing_what = " ".join(unknown)

        t = time.perf_counter()
        qvec = np.asarray(self.embed_model.get_query_embedding(query), dtype=np.float32)
        timings["embed_query"] = (time.perf_counter() - t) * 1000
        if groups and not missing_what:
            # A comparison of events reads the evidence of each: the best passages of one event
            # must not crowd out the other's.
            hits, seen = [], set()
            for group in groups:
                for h in snap.retriever.retrieve(query, q.lang, top_k, articles=sorted(group), mode=mode,
                                                 timings=timings, query_vector=qvec.tolist()):
                    if h.id not in seen:
                        seen.add(h.id)
                        hits.append(h)
            hits.sort(key=lambda h: -h.score)
        else:
            hits = snap.retriever.retrieve(query, q.lang, top_k, articles=articles if not missing_what else None,
                                           mode=mode, timings=timings, query_vector=qvec.tolist())
        timings["retrieve"] = (time.perf_counter() - t0) * 1000
        return Evidence(text, q, hits, qvec, missing_what, groups, timings, snap.bm25 or _NoLexicon())

    def reader_model(self):
        from rag.answer import reader

        return reader.load(self.settings.reader_model or reader.MODEL_PATH)

    def min_confidence(self) -> float:
        mc = self.settings.min_confidence
        return self.reader_model().min_confidence if mc is None else mc

    def read(self, ev: "Evidence", model=None, min_confidence: float | None = None, short: bool = True) -> Answer:
        """The answer the evidence gives (or an abstention), by the trained reader `model`, with
        its short answer (`short`: scripts/train_short.py reads without, to learn it)."""
        if ev.missing_what:
            return answering.abstain(ev.q, ev.hits, what=_describe(ev.missing_what, ev.q),
                                     reason=f"not in the articles: {ev.missing_what}", confidence=0.0)
        model = model or self.reader_model()
        floor = self.min_confidence() if min_confidence is None else min_confidence
        out = answering.answer(ev.q, ev.hits, ev.lexicon, model, ev.qvec, floor, ev.groups,
                               self._list_items, self._similarity, self._text_vectors)
        if out.answered and short and out.short is None:
            sm = spans.load()
            out.short = spans.short_answer(ev.q, out, sm.spans, reader.question_weights(ev.q, ev.lexicon),
                                           sm.min_probability)
        return out

    def _extractive(self, question: str, top_k: int | None, history: list[str] | None,
                    mode: Mode | str, min_confidence: float | None = None) -> tuple[Result, bool]:
        if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
            raise QuestionError("the minimum confidence must be between 0 and 1")
        ev = self.evidence(question, top_k, history, mode)
        t1 = time.perf_counter()
        result_answer = self.read(ev, min_confidence=min_confidence)
        ev.timings["answer"] = (time.perf_counter() - t1) * 1000
        return Result(ev.text, result_answer, ev.timings, ev.q, ev.hits), not result_answer.answered

    def _articles_with(self, phrase: str, snap: "_Snapshot") -> set[str]:
        """The live articles with a passage that holds `phrase` as written (or title-cased), from
        Chroma's full-text index. Its cost grows with the corpus (about 0.7 ms at 83 passages,
        3-5 ms at 8,000), so the answer is remembered for the life of the snapshot (the corpus
        does not change under it), and a word that BM25 has never seen answers "none" without
        asking Chroma."""
        if phrase in snap.articles_with:
            return snap.articles_with[phrase]
        found: set[str] = set()
        if snap.bm25 is None or all(snap.bm25.idf(t) is not None for t in tokenize(phrase)):
            live = snap.retriever.live
            for variant in dict.fromkeys([phrase, phrase.title()]):
                got = self.collection.get(where_document={"$contains": variant}, include=["metadatas"])
                found |= {m["article_id"] for pid, m in zip(got["ids"], got["metadatas"]) if pid in live}
        if len(snap.articles_with) < 10_000:
            snap.articles_with[phrase] = found
        return found

    def _similarity(self, question: str, sentences: list[str]) -> list[float]:
        import numpy as np

        qv = np.asarray(self.embed_model.get_query_embedding(question))
        vecs = self._text_vectors(sentences)
        return [float(v @ qv) for v in vecs]

    def _text_vectors(self, texts: list[str]):
        """Passage-side vectors of `texts` (rows, L2-normalised), cached by text."""
        import numpy as np

        with self._lock:
            todo = [s for s in dict.fromkeys(texts) if s not in self._sentence_vectors]
        if todo:
            got = self.embed_model.get_text_embedding_batch(todo)
            with self._lock:
                for s, v in zip(todo, got):
                    v = np.asarray(v, dtype=np.float32)
                    self._sentence_vectors[s] = v / (np.linalg.norm(v) or 1.0)
                while len(self._sentence_vectors) > 5000:  # bounded: oldest out first
                    self._sentence_vectors.pop(next(iter(self._sentence_vectors)))
        with self._lock:
            cache = self._sentence_vectors
            return np.stack([cache[s] if s in cache else self._vector_now(s) for s in texts]) if texts else \
                np.zeros((0, 1), dtype=np.float32)

    def _vector_now(self, text: str):
        import numpy as np

        v = np.asarray(self.embed_model.get_text_embedding(text), dtype=np.float32)
        return v / (np.linalg.norm(v) or 1.0)

    def _list_items(self, hit: Hit, span: tuple[int, int], limit: int = 12) -> list[tuple[Hit, tuple[int, int]]]:
        """The list items that follow the sentence at `span`, read on into the next passages of the
        same document (a list is often longer than a passage)."""
        items: list[tuple[Hit, tuple[int, int]]] = []
        doc_end = int(hit.meta.get("start", 0)) + span[1]  # document offset reached so far
        current, start_at = hit, span[1]
        for _ in range(4):
            for s in current.sentences:
                if s[0] < start_at or int(current.meta.get("start", 0)) + s[0] < doc_end:
                    continue
                if not _LIST_ITEM.match(current.text[s[0]:s[1]]):
                    return items
                items.append((current, s))
                doc_end = int(current.meta.get("start", 0)) + s[1]
                if len(items) >= limit:
                    return items
            nxt = self._next_passage(current)
            if nxt is None:
                return items
            current, start_at = nxt, 0
        return items

    def _next_passage(self, hit: Hit) -> Hit | None:
        got = self.collection.get(where={"$and": [{"doc_id": hit.meta.get("doc_id", "")},
                                                  {"idx": int(hit.meta.get("idx", -1)) + 1}]},
                                  include=["documents", "metadatas"])
        live = self._current().retriever.live
        for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
            if pid in live:
                return Hit(pid, doc, dict(meta))
        return None

    def _manifest(self) -> store.Manifest | None:
        """The committed manifest: the current snapshot's when it is up to date (no re-read)."""
        snap = self._snapshot
        if snap is not None:
            try:
                if (self.settings.index_dir / store.MANIFEST).stat().st_mtime == snap.mtime:
                    return snap.manifest
            except FileNotFoundError:
                pass
        return store.load_manifest(self.settings.index_dir)

    def stats(self) -> dict[str, Any]:
        manifest = self._manifest()
        articles = manifest.articles if manifest else {}
        docs = {"en": 0, "zh": 0}
        for a in articles.values():
            for lang in a.get("langs", []):
                docs[lang] = docs.get(lang, 0) + 1
        return {
            "articles": len(articles),
            "documents": docs,
            "passages": sum(len(a["passages"]) for a in articles.values()),
            "index_bytes": store.dir_bytes(self.settings.index_dir),
            "index_dir": str(self.settings.index_dir),
            "chroma_url": self.settings.chroma_url,
            "embed_model": manifest.embed_model if manifest else None,
            "chunking": manifest.chunking if manifest else None,
        }

    def articles(self) -> list[dict[str, Any]]:
        manifest = self._manifest()
        if manifest is None:
            return []
        rows = [{"article_id": aid, "title": a["title"], "date": a.get("date"), "langs": a.get("langs", []),
                 "passages": len(a["passages"]), "source": a["source"]} for aid, a in manifest.articles.items()]
        return sorted(rows, key=lambda r: (r["date"] or "", r["article_id"]), reverse=True)

    def require_index(self) -> None:
        self._current()


def _describe(what: str, q: Question) -> str:
    if q.lang == "zh":
        return what
    return f"“{what}”" if " " not in what and not what[:1].isdigit() else what


class _NoLexicon:
    def idf(self, token: str) -> float | None:
        return 1.0


__all__ = ["Engine", "Result", "Settings", "IndexMissingError"]
