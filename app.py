"""`python app.py [options]` starts the chat app: the same as `rag serve [options]`."""
import sys

from rag.app.cli import main

if __name__ == "__main__":
    main(["serve", *sys.argv[1:]], prog_name="app.py")
