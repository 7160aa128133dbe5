"""Regenerate the README's table of env vars from rag/config.py (and the `rag` command's flags).

    python scripts/settings_table.py           # rewrite README.md
    python scripts/settings_table.py --check   # exit 1 when README.md is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.app.cli import main as rag  # noqa: E402
from rag.app.cli.settings_table import rewrite  # noqa: E402
from rag.config import PROJECT_ROOT  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that README.md is up to date")
    args = parser.parse_args(argv)
    readme = PROJECT_ROOT / "README.md"
    text = readme.read_text("utf-8")
    new = rewrite(text, rag)
    if args.check:
        if new != text:
            print("README.md's settings table is out of date: python scripts/settings_table.py", file=sys.stderr)
            return 1
        return 0
    if new != text:
        readme.write_text(new, "utf-8")
        print("README.md: settings table rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
