"""Where details go: one line for the user on stderr, the traceback in a log file.

A user sees `error: <what happened and what to do>`; the traceback and the context that a
maintainer needs go to the log file (the setting log_file: `RAG_LOG_FILE`, default
~/.cache/newsrag/rag.log), which the one-line message names. A traceback on a terminal helps
nobody who did not write the code.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

_installed: dict[str, logging.Handler] = {}


class OneLine(logging.Formatter):
    """The message only, never the traceback (that goes to the file handler)."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            return super().format(record).splitlines()[0] if record.getMessage() else ""
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def setup(verbose: bool, path: Path) -> Path | None:
    """Console: one line per record (INFO with -v, else WARNING). File (`path`): everything
    from INFO with tracebacks. Returns the log file, or None when it cannot be written (then the
    console is all there is, and a broken log folder must not stop the command)."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for h in list(root.handlers):
        if h in _installed.values():
            root.removeHandler(h)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    console.setFormatter(OneLine("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(console)
    _installed["console"] = console
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=2, encoding="utf-8")
    except OSError as exc:
        console.handle(logging.makeLogRecord({"msg": f"cannot write the log file {path} ({exc})",
                                              "levelno": logging.WARNING, "levelname": "WARNING",
                                              "name": "rag"}))
        return None
    fh.setLevel(logging.INFO)
    fh.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
    root.addHandler(fh)
    _installed["file"] = fh
    return path


def where() -> str:
    """How the one-line message points at the details."""
    fh = _installed.get("file")
    return f"details in {fh.baseFilename}" if fh is not None else "details in the log"
