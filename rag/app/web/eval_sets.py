"""What the Evaluation tab runs, checked: the question set chosen (shipped, a saved draft or an
uploaded file) loaded and bounded, and the run's settings from the form or the API.

Errors are EvalError with the file's name (never the server's path) and, from the loaders,
the line, so that the tab and /evaluate can show them as they are.
"""

from __future__ import annotations

from pathlib import Path

from rag.app import inputs
from rag.eval import drafts as feedback_drafts
from rag.eval.datasets import load_dataset
from rag.eval.jobs import EvalOptions
from rag.eval.types import Dataset, EvalError

MAX_QUESTIONS = 5000  # per run in the app; larger sets: `rag eval`
SET_TYPES = [".jsonl", ".json", ".csv"]
SHIPPED = "shipped"
UPLOAD = "upload"
MAX_TOP_K = 20


def set_choices(index_dir: Path) -> list[tuple[str, str]]:
    """The question sets to choose from: (label, value) for the dropdown."""
    from rag.eval.runner import DEFAULT_QUESTIONS

    choices = [(f"{DEFAULT_QUESTIONS.parent.name}/{DEFAULT_QUESTIONS.name} (shipped)", SHIPPED)]
    choices += [(f"{p.name} (saved draft)", f"saved:{p.stem}") for p in feedback_drafts.saved_sets(index_dir)]
    choices.append(("the uploaded file", UPLOAD))
    return choices


def load_set(choice: str | None, file: str | None, index_dir: Path, max_bytes: int) -> tuple[Dataset, str]:
    """The chosen question set and its path; EvalError with the file's name (not the server's
    path) and the line when it cannot be used."""
    from rag.eval.runner import DEFAULT_QUESTIONS

    choice = choice or (UPLOAD if file else SHIPPED)
    if choice == UPLOAD:
        if not file:
            raise EvalError("choose a question set file to upload first (.jsonl, .json or .csv)")
        path = Path(file)
        name = path.name
        if path.suffix.lower() not in SET_TYPES:
            raise EvalError(f"{name}: a question set is a .jsonl, .json or .csv file")
        size = path.stat().st_size
        if size > max_bytes:
            raise EvalError(f"{name} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB")
    elif str(choice).startswith("saved:"):
        name = feedback_drafts.safe_name(str(choice)[6:]) + ".jsonl"
        path = index_dir / feedback_drafts.SETS_DIR / name
    elif choice == SHIPPED:
        path, name = DEFAULT_QUESTIONS, f"{DEFAULT_QUESTIONS.parent.name}/{DEFAULT_QUESTIONS.name}"
    else:
        raise EvalError(f"unknown question set {str(choice)[:60]!r}; use {SHIPPED!r}, a saved set or a file")
    try:
        ds = load_dataset(path)
    except EvalError as exc:
        raise EvalError(str(exc).replace(str(path), name)) from None
    if len(ds.questions) > MAX_QUESTIONS:
        raise EvalError(f"{name} has {len(ds.questions):,} questions; the app runs at most {MAX_QUESTIONS:,} "
                        "(use `rag eval FILE --limit N` for larger sets)")
    ds.name = Path(name).stem
    return ds, str(path if choice != UPLOAD else name)


def run_options(retrieval, top_k, min_conf, use_llm, baseline, default_top_k: int, withhold=None) -> EvalOptions:
    """A run's settings as the form or /evaluate sent them; top_k 0 or nothing: the server's
    default; min_conf or withhold negative or nothing: the server's minimum confidence or
    withhold factor."""
    mode = str(retrieval or "hybrid")
    if mode not in ("hybrid", "vector", "bm25"):
        raise EvalError(f"retrieval must be hybrid, vector or bm25, not {mode[:30]!r}")
    k = inputs.top_k(top_k, MAX_TOP_K) or min(MAX_TOP_K, default_top_k)
    return EvalOptions(retrieval=mode, top_k=int(k), min_confidence=inputs.min_confidence(min_conf),
                       short_withhold=inputs.short_withhold(withhold), use_llm=bool(use_llm),
                       baseline=bool(baseline))
