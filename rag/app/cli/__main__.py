"""`python -m rag.app.cli`: the `rag` command, for tests, benches and a checkout without an install."""

from rag.app.cli import main

main()
