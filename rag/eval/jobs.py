"""Running a question set for the app (and the engine choice `rag eval` shares with it).

- Which index a question set runs on (rag.eval.corpus.corpus_settings): ours and the plain
  sets use the index; SQuAD and CMRC sets bring their own articles, indexed once into
  <index-dir>/eval-sets/<name>-<hash>/ and reused.
- `EvalRunner`: one evaluation at a time, in one background thread at a lower CPU priority
  whose embedding calls yield to the questions' (rag.store.embedding.background), so the chat keeps
  answering. It keeps the running state (questions done, running scores, time left) for the
  page to poll, stops between two questions when cancelled, and saves each completed run
  (rag.eval.runs). A cancelled run is not saved.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from rag.errors import RagError
from rag.eval import comparison
from rag.eval import runs as eval_runs
from rag.eval.corpus import corpus_settings
from rag.eval.datasets import sample
from rag.eval.types import Dataset, EvalQuestion

log = logging.getLogger(__name__)

BASELINE_MAX_QUESTIONS = 300  # as `rag eval`: above it the baseline is skipped unless asked for


class Cancelled(RagError):
    """The evaluation was cancelled; nothing was saved."""


@dataclass
class EvalOptions:
    retrieval: str = "hybrid"
    top_k: int = 5
    min_confidence: float | None = None  # None: the engine's
    short_withhold: float | None = None  # None: the engine's; 0 never withholds
    use_llm: bool = True  # only matters when a language model is configured
    baseline: bool | None = None  # None: on up to BASELINE_MAX_QUESTIONS questions
    limit: int | None = None
    seed: int | None = None


@dataclass
class Job:
    id: str
    set_name: str
    total: int
    owner: str | None = None
    state: str = "queued"  # queued | indexing | running | baseline | saving | done | cancelled | failed
    done: int = 0
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    run_id: str | None = None
    run_dir: str | None = None
    summary: dict[str, Any] | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)
    # Running scores over the questions answered so far.
    answerable: int = 0
    recall_sum: float = 0.0
    abstention_right: int = 0

    @property
    def finished_ok(self) -> bool:
        return self.state == "done"

    @property
    def over(self) -> bool:
        return self.state in ("done", "cancelled", "failed")

    def scores(self) -> dict[str, float | None]:
        return {"answer_recall": self.recall_sum / self.answerable if self.answerable else None,
                "abstention_accuracy": self.abstention_right / self.done if self.done else None}

    def seconds_left(self) -> float | None:
        if not self.started or not self.done or self.state != "running":
            return None
        rate = (time.monotonic() - self.started) / self.done
        return rate * (self.total - self.done)


class RunEngine:
    """The engine as rag.eval.runner.evaluate sees it during one job: the job's minimum
    confidence and language-model choice on every question, a stop between two questions
    when the job is cancelled, and each answer scored for the running numbers."""

    def __init__(self, engine, job: Job, questions: list[EvalQuestion], options: EvalOptions):
        self._engine = engine
        self._job = job
        self._questions = questions
        self._options = options
        # The floor in force is recorded with the run, also when it is the engine's default.
        floor = options.min_confidence
        if floor is None:
            try:
                floor = float(engine.min_confidence())
            except Exception:  # no reader model: the engine reports it on the first question
                floor = None
        settings = engine.settings.replace(min_confidence=floor)
        if not options.use_llm and settings.llm_configured:
            settings = settings.model_copy(update={"llm_url": None, "llm_gguf": None})
        self.settings = settings

    def short_withhold(self, model=None, given: float | None = None) -> float | None:
        """The job's factor, so that the run records the one it answered with."""
        return self._engine.short_withhold(model, self._options.short_withhold if given is None else given)

    def __getattr__(self, name: str):
        return getattr(self._engine, name)

    def ask(self, question: str, top_k: int | None = None, mode: Any = "hybrid", **kw: Any):
        from rag.eval.scoring import score_answer

        job = self._job
        if job.cancel_event.is_set():
            raise Cancelled("cancelled")
        job.state = "running"
        if job.started is None:
            job.started = time.monotonic()
        result = self._engine.ask(question, top_k=top_k, mode=mode, min_confidence=self._options.min_confidence,
                                  short_withhold=self._options.short_withhold, llm=self._options.use_llm, **kw)
        q = self._questions[job.done] if job.done < len(self._questions) else None
        if q is not None:
            data = result.to_json()
            if q.answerable:
                cites = [{"n": c["n"], "article_id": c["article_id"], "text": c["text"]} for c in data["citations"]]
                scored = score_answer(q, data["answer"], bool(data["answered"]), cites)
                job.answerable += 1
                job.recall_sum += scored.get("answer_recall") or 0.0
            job.abstention_right += bool(data["answered"]) == q.answerable
        job.done += 1
        return result


def summary(result: dict[str, Any], run_id: str | None) -> dict[str, Any]:
    """What /evaluate returns: the run id, settings, metrics, groups and the failed questions."""
    return {
        "run_id": run_id, "status": "complete",
        "set": {k: v for k, v in result["set"].items() if k != "ingested"},
        "metrics": result["metrics"],
        "baseline": (result.get("baseline") or {}).get("metrics"),
        "by_category": result["by_category"], "by_language": result["by_language"],
        "latency_ms": result["latency_ms"],
        "failed": [{"id": r["id"], "question": r["question"], "answer": r["answer"],
                    "reasons": r["failures"], "kinds": comparison.failure_kinds(r)}
                   for r in result["questions"] if r["failures"]],
    }


class EvalRunner:
    """One evaluation at a time for the app (see the module's docstring)."""

    def __init__(self, engine, index_dir: Path, initializer: Callable[[], None] | None = None):
        self.engine = engine
        self.index_dir = Path(index_dir)
        self._initializer = initializer
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self.jobs: dict[str, Job] = {}
        # The baseline depends on the questions and the articles only, not on the run's
        # settings: computed once per set and corpus (it embeds the whole corpus again).
        self._baselines: dict[str, dict[str, Any]] = {}

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="evaluation", initializer=self._initializer)
            return self._pool

    def current(self) -> Job | None:
        running = [j for j in self.jobs.values() if not j.over]
        return running[0] if running else None

    def start(self, dataset: Dataset, options: EvalOptions, owner: str | None = None,
              source: str = "") -> tuple[Job, Future]:
        """Queue `dataset` for evaluation; the job and its future (the run's summary). Jobs run
        one after the other in the runner's thread."""
        questions = sample(dataset.questions, options.limit, options.seed)
        job = Job(id=uuid.uuid4().hex[:12], set_name=dataset.name, total=len(questions), owner=owner)
        with self._lock:
            for old in [k for k, j in self.jobs.items() if j.over][:-20]:  # keep the last few finished
                self.jobs.pop(old, None)
            self.jobs[job.id] = job
        ctx = contextvars.copy_context()
        future = self._executor().submit(ctx.run, self._run, job, dataset, questions, options, source)
        return job, future

    def cancel(self, owner: str | None = None, job_id: str | None = None) -> list[Job]:
        """Cancel the jobs of `owner` (or the one `job_id`) that are not over; the ones it stopped."""
        hit = [j for j in self.jobs.values() if not j.over and (j.id == job_id or (owner and j.owner == owner))]
        for j in hit:
            j.cancel_event.set()
        return hit

    def _run(self, job: Job, dataset: Dataset, questions: list[EvalQuestion], options: EvalOptions,
             source: str) -> dict[str, Any]:
        from rag.engine import Engine
        from rag.eval.baseline import baseline_key, one_at_a_time, run_baseline
        from rag.eval.runner import evaluate
        from rag.store.embedding import background

        if job.cancel_event.is_set():
            job.state = "cancelled"
            job.finished = time.monotonic()
            raise Cancelled("cancelled before it started")
        own = None
        try:
            with background():
                settings, articles, refresh = corpus_settings(dataset, self.engine.settings,
                                                              self.index_dir / "eval-sets")
                engine = self.engine
                if refresh:
                    job.state = "indexing"
                    # The app's model objects are shared (a local language model is not started twice).
                    shared_llm = self.engine.llm if settings.llm_configured else None
                    engine = Engine(settings, embed_model=self.engine.embed_model, llm=shared_llm)
                    own = engine if shared_llm is None else None
                proxy = RunEngine(engine, job, questions, options)
                baseline = options.baseline
                if baseline is None:
                    baseline = len(questions) <= BASELINE_MAX_QUESTIONS
                result = evaluate(proxy, questions, mode=options.retrieval, top_k=options.top_k,
                                  baseline=False, articles=articles, source=source, refresh_index=refresh,
                                  dataset=dataset)
                if baseline:
                    if job.cancel_event.is_set():
                        raise Cancelled("cancelled")
                    job.state = "baseline"
                    key = baseline_key(questions, articles)
                    cached = self._baselines.get(key)
                    if cached is None:
                        cached = run_baseline(questions, one_at_a_time(engine.embed_model), articles)
                        self._baselines[key] = cached
                        while len(self._baselines) > 8:
                            self._baselines.pop(next(iter(self._baselines)))
                    result["baseline"] = cached
                if job.cancel_event.is_set():
                    raise Cancelled("cancelled")
                job.state = "saving"
                settings_saved = eval_runs.run_settings(result, source="app", limit=options.limit, seed=options.seed)
                settings_saved["file"] = dataset.name if not source else Path(source).name
                run_dir = eval_runs.save_run(result, self.index_dir, settings_saved)
            job.run_id, job.run_dir = run_dir.name, str(run_dir)
            job.summary = summary(result, run_dir.name)
            job.state = "done"
            return job.summary
        except Cancelled:
            job.state = "cancelled"
            log.info("evaluation %s cancelled after %d of %d questions", job.id, job.done, job.total)
            raise
        except RagError as exc:
            job.state, job.error = "failed", str(exc)
            raise
        except Exception as exc:
            log.exception("evaluation %s failed", job.id)
            job.state = "failed"
            job.error = f"internal error ({exc.__class__.__name__}); the server log has the details"
            raise RagError(job.error) from exc
        finally:
            job.finished = time.monotonic()
            if own is not None:
                own.close()
