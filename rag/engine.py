"""The one API that the CLI, the web app and the evaluation call.

    engine = Engine(Settings.from_env())
    engine.ingest([Path("data/articles")])
    result = engine.ask("Who attended the seventh meeting?")
    result.to_json()

A question goes through the stages in order: analysed (rag.answer.questions), planned and
retrieved (rag.retrieve.planning), read by the trained reader (rag.answer), and, with a language
model configured, generated and verified (rag.generate). The index is read through a LiveIndex
(rag.retrieve.snapshot), which keeps it current when another process writes it.
"""

from __future__ import annotations

import threading
import time
from functools import partial
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from rag.answer import abstention, extractive, short_answer
from rag.answer.questions import analyse
from rag.answer.reader_model import MODEL_PATH as READER_MODEL_PATH
from rag.answer.reader_model import load as load_reader
from rag.answer.sentence_features import question_weights
from rag.config import DEFAULT_ARTICLES, MAX_SHORT_WITHHOLD, Settings, prepare_process
from rag.errors import PassagesMissingError, QuestionError
from rag.ingest.pipeline import Ingestor, IngestReport, Lazy, Progress
from rag.retrieve import planning
from rag.retrieve.hybrid import Mode
from rag.retrieve.lists import list_items
from rag.retrieve.snapshot import LiveIndex
from rag.retrieve.vectors import TextVectors
from rag.store import manifest as store
from rag.types import Answer, Draft, Evidence, Hit, Question, Result


class Engine:
    def __init__(self, settings: Settings | None = None, embed_model=None, llm=None):
        prepare_process()  # an entry point for library users: offline tiktoken, no telemetry
        self.settings = settings or Settings.from_env()
        self._embed_model = embed_model
        self._llm = llm  # rag.generate.client.ChatLLM (or anything with .stream and .label); made from settings on first use
        self._llm_made = llm is not None
        self._lock = threading.RLock()
        self._index = LiveIndex(self.settings, lambda: self.embed_model, self._lock)
        self.text_vectors = TextVectors(lambda: self.embed_model)  # sentence vectors, cached by text

    # -- parts, loaded on first use and kept for the life of the process --------------------
    @property
    def embed_model(self):
        if self._embed_model is None:
            with self._lock:
                if self._embed_model is None:
                    from rag.store.embedding import for_settings

                    self._embed_model = for_settings(self.settings)
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
        """The Chroma collection of the index (opened on first use)."""
        return self._index.collection

    # -- the three operations ------------------------------------------------------------------
    def ingest(self, paths: list[Path] | None = None, prune: bool = False,
               progress: Progress | None = None, repair: bool = False,
               embed_batch: int | None = None) -> IngestReport:
        paths = paths or [DEFAULT_ARTICLES]
        # The model and Chroma are opened only when there is something to embed or write: an
        # ingest of unchanged files reads the manifest, hashes the files and stops.
        with self._index.writing():
            settings = self.settings.replace(embed_batch=embed_batch)  # smaller steps for a background ingest
            report = Ingestor(settings, Lazy(lambda: self.embed_model), Lazy(self._index.writable_collection),
                              progress, model_name=self.embed_model_name, repair=repair,
                              reopen=self._index.new_store).run(paths, prune)
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
            mode: Mode | str = Mode.HYBRID, llm: bool = True, min_confidence: float | None = None,
            short_withhold: float | None = None) -> Result:
        """Answer `question`. `history` holds earlier questions of the conversation, oldest first.
        With a language model configured (and `llm`), the answer is generated and verified.
        `min_confidence` and `short_withhold` override the settings of the same name."""
        result = None
        for item in self.ask_stream(question, top_k, history, mode, llm, min_confidence, short_withhold):
            result = item
        assert isinstance(result, Result)
        return result

    def ask_stream(self, question: str, top_k: int | None = None, history: list[str] | None = None,
                   mode: Mode | str = Mode.HYBRID, llm: bool = True,
                   min_confidence: float | None = None,
                   short_withhold: float | None = None) -> Iterator[Draft | Result]:
        """Like `ask`, but first yields a `Draft` (the model's unverified text so far) each time the
        language model sends more; the last item is always the Result."""
        knobs = (min_confidence, short_withhold)
        try:
            result, hard_abstention = self._extractive(question, top_k, history, mode, *knobs)
        except PassagesMissingError:
            # Another process changed the index while this question read it (its snapshot was
            # current when the question began): ask again on a fresh view. When the passages
            # are still missing, the store has lost them, and the error says to repair it.
            self._index.reload(force=True)
            result, hard_abstention = self._extractive(question, top_k, history, mode, *knobs)
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
        for item in generate(model, result.question, lang, result.retrieved, result.answer, self.text_vectors,
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
                 mode: Mode | str = Mode.HYBRID) -> Evidence:
        """What the reader reads for `question`: its analysis, the retrieved passages, the query
        vector, and what the question names that no article holds (then nothing is read)."""
        text = self.validate_question(question)
        mode = Mode.parse(mode)
        top_k = top_k or self.settings.top_k
        if top_k < 1 or top_k > 50:
            raise QuestionError("top-k must be between 1 and 50")
        snap = self._index.current()
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        q = _analyse(text, history)
        plan = planning.plan(q, text, snap.anchors, snap.bm25, snap.retriever.articles_with)
        t = time.perf_counter()
        qvec = np.asarray(self.embed_model.get_query_embedding(plan.query), dtype=np.float32)
        timings["embed_query"] = (time.perf_counter() - t) * 1000
        hits = planning.retrieve(plan, snap.retriever, q.lang, top_k, mode, timings, qvec.tolist())
        timings["retrieve"] = (time.perf_counter() - t0) * 1000
        return Evidence(text, q, hits, qvec, plan.missing_what, plan.groups, timings, snap.bm25 or _NoLexicon())

    def reader_model(self):
        return load_reader(self.settings.reader_model or READER_MODEL_PATH)

    def min_confidence(self) -> float:
        mc = self.settings.min_confidence
        return self.reader_model().min_confidence if mc is None else mc

    def short_withhold(self, model=None, given: float | None = None) -> float | None:
        """The factor in force of short_answer.withheld (None: never withheld): `given`, else the
        setting's (0 for either means never), else the span model's."""
        ratio = self.settings.short_withhold if given is None else given
        return (ratio or None) if ratio is not None else (model or short_answer.load()).withhold_ratio

    def read(self, ev: Evidence, model=None, min_confidence: float | None = None, short: bool = True,
             short_withhold: float | None = None) -> Answer:
        """The answer the evidence gives (or an abstention), by the trained reader `model`, with
        its short answer (`short`: scripts/train_short.py reads without, to learn it)."""
        if ev.missing_what:
            return abstention.abstain(ev.q, ev.hits, what=_describe(ev.missing_what, ev.q),
                                      reason=f"not in the articles: {ev.missing_what}", confidence=0.0)
        model = model or self.reader_model()
        floor = self.min_confidence() if min_confidence is None else min_confidence
        out = extractive.answer(ev.q, ev.hits, ev.lexicon, model, ev.qvec, floor, ev.groups,
                                partial(list_items, next_passage=self._next_passage),
                                self.text_vectors.similarity, self.text_vectors, self._previous_passage)
        if out.answered and short and out.short is None:
            sm = short_answer.load()
            found = short_answer.short_answer(ev.q, out, sm.spans, question_weights(ev.q, ev.lexicon),
                                              sm.min_probability, ev.groups, sm.sharpness)
            out.short_withheld = found is not None and short_answer.withheld(
                found, out.confidence, self.short_withhold(sm, short_withhold))
            out.short = None if out.short_withheld else found
        return out

    def _extractive(self, question: str, top_k: int | None, history: list[str] | None,
                    mode: Mode | str, min_confidence: float | None = None,
                    short_withhold: float | None = None) -> tuple[Result, bool]:
        if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
            raise QuestionError("the minimum confidence must be between 0 and 1")
        if short_withhold is not None and not 0.0 <= short_withhold <= MAX_SHORT_WITHHOLD:
            raise QuestionError(f"the withhold factor must be between 0 and {MAX_SHORT_WITHHOLD:g}")
        ev = self.evidence(question, top_k, history, mode)
        t1 = time.perf_counter()
        result_answer = self.read(ev, min_confidence=min_confidence, short_withhold=short_withhold)
        ev.timings["answer"] = (time.perf_counter() - t1) * 1000
        return Result(ev.text, result_answer, ev.timings, ev.q, ev.hits), not result_answer.answered

    def _next_passage(self, hit: Hit) -> Hit | None:
        return self._index.current().retriever.next_passage(hit)

    def _previous_passage(self, hit: Hit) -> Hit | None:
        return self._index.current().retriever.previous_passage(hit)

    def stats(self) -> dict[str, Any]:
        manifest = self._index.manifest()
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
        manifest = self._index.manifest()
        if manifest is None:
            return []
        rows = [{"article_id": aid, "title": a["title"], "date": a.get("date"), "langs": a.get("langs", []),
                 "passages": len(a["passages"]), "source": a["source"]} for aid, a in manifest.articles.items()]
        return sorted(rows, key=lambda r: (r["date"] or "", r["article_id"]), reverse=True)

    def require_index(self) -> None:
        self._index.current()


def _analyse(text: str, history: list[str] | None) -> Question:
    """The question, read after the last three earlier questions of the conversation (a follow-up
    borrows what it refers to)."""
    previous = None
    for h in (history or [])[-3:]:
        if h and h.strip():
            previous = analyse(h, previous)
    return analyse(text, previous)


def _describe(what: str, q: Question) -> str:
    if q.lang == "zh":
        return what
    return f"“{what}”" if " " not in what and not what[:1].isdigit() else what


class _NoLexicon:
    def idf(self, token: str) -> float | None:
        return 1.0


__all__ = ["Engine"]
