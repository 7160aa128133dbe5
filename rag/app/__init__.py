"""The thin layers people use: the `rag` command (`cli`) and the browser app (`web`), plus the
checks on what users send (`inputs`), feedback votes and the log file. They call `rag.engine.Engine`."""
