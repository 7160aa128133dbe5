"""Exit codes and the one-line error: 0 success (an abstention is a success), 1 failure (one-line
reason on stderr, the traceback in the log file), 2 usage error.
"""

from __future__ import annotations

import functools
import logging
import sys

import click

from rag.app import inputs
from rag.errors import QuestionError, RagError

log = logging.getLogger("rag")


def fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {inputs.printable(message)}", err=True)
    sys.exit(code)


def handle_errors(fn):
    """RagError -> exit 1 with its message; a bug -> exit 1 with a pointer to the log."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except click.ClickException:  # usage errors: click prints them and exits 2
            raise
        except QuestionError as exc:
            fail(str(exc), 2)
        except RagError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("interrupted; the index is as it was before this run (run `rag ingest` again to finish)", 130)
        except ValueError as exc:  # bad option values that click could not see, e.g. env vars
            fail(str(exc), 2)
        except OSError as exc:  # the disk or a permission, not a bug: say which file
            log.info("`rag %s` failed on a file", fn.__name__.rstrip("_"), exc_info=True)
            where = f" {exc.filename}" if exc.filename else ""
            fail(f"cannot use{where}: {exc.strerror or exc}")
        except Exception as exc:
            from rag.app import logs

            log.error("unexpected error in `rag %s`", fn.__name__.rstrip("_"), exc_info=True)
            # One line: what failed and where the traceback is. The traceback itself would
            # bury the message and tells a user nothing they can act on.
            message = " ".join(str(exc).split())[:300]
            fail(f"unexpected {exc.__class__.__name__}: {message} ({logs.where()}; please report it)")
    return wrapper
