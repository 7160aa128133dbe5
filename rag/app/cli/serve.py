"""`rag serve` (and `python app.py`): the browser chat app."""

from __future__ import annotations

import click

from rag.app.cli.exits import handle_errors
from rag.app.cli.options import (chroma_option, embed_options, index_dir_option, llm_options, min_confidence_option,
                                 short_withhold_option, takes_overrides)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback exposes the app to the network.")
@click.option("--port", type=click.IntRange(1, 65535), default=7860, show_default=True)
@index_dir_option
@chroma_option
@embed_options
# Not a setting: a secret of this one command, which the engine never needs.
@click.option("--auth", metavar="USER:PASSWORD", default=None, envvar="RAG_AUTH",
              help="Ask for this user name and password (env RAG_AUTH); use it on a shared instance.")
@click.option("--ingest/--no-ingest", default=None,
              help="Index data/articles at start-up (default: only when using the default index folder).")
@min_confidence_option
@short_withhold_option
@llm_options
@handle_errors
@takes_overrides
def serve(host, port, auth, ingest, overrides):
    """Start the browser chat app (default http://127.0.0.1:7860)."""
    from rag.app.web.server import serve as run

    # chat.serve hands its extra keywords to Settings.from_env, as the other commands do.
    run(host=host, port=port, auth=auth, ingest=ingest, **overrides)
