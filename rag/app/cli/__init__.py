"""The `rag` command: a thin layer over rag.engine.Engine, one module per command group.

Exit codes (rag.app.cli.exits): 0 success (an abstention is a success), 1 failure (one-line
reason on stderr), 2 usage error. Setting flags come from rag.config.Settings (options).
"""

from __future__ import annotations

import click

from rag.app.cli.ask import ask
from rag.app.cli.evaluate import eval_
from rag.app.cli.index import ingest, stats
from rag.app.cli.serve import serve
from rag.config import Settings, prepare_process


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log progress and decisions.")
@click.version_option(package_name="newsrag")
def main(verbose: bool) -> None:
    """Ask questions about a collection of news articles; get answers with cited passages."""
    from rag.app import logs

    prepare_process()  # before any command counts a token or starts the app
    try:
        log_file = Settings.from_env().log_file
    except ValueError:  # the command reports the bad env var, in one line; the log goes to the default
        log_file = Settings().log_file
    logs.setup(verbose, log_file)


for command in (ingest, ask, stats, eval_, serve):
    main.add_command(command)
