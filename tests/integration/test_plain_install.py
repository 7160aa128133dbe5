"""Case 1 of issue 11: the plain install (no `eval` extra, so no matplotlib) can evaluate.

The other tests run with every extra installed, which is how this was missed; here a real
`rag eval` process runs with matplotlib made unimportable. scripts/smoke_plain.sh does the
same in a fresh venv with `pip install .` (CI)."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture
def no_matplotlib(tmp_path):
    shadow = tmp_path / "shadow"
    (shadow / "matplotlib").mkdir(parents=True)
    (shadow / "matplotlib" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'matplotlib'\", name='matplotlib')\n")
    return shadow


def run_eval(index, cwd, shadow, *args):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(shadow), *filter(None, [env.get("PYTHONPATH")])])
    env["RAG_LOG_FILE"] = str(cwd / "rag.log")
    return subprocess.run([sys.executable, "-m", "rag.app.cli", "eval", "--limit", "3", "--no-baseline",
                           "--index-dir", str(index), *args],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def test_eval_and_report_work_without_matplotlib(real_index, tmp_path, no_matplotlib):
    for args in ([], ["--report", str(tmp_path / "out")]):
        p = run_eval(real_index, tmp_path, no_matplotlib, *args)
        assert p.returncode == 0, p.stderr
        assert "Traceback" not in p.stderr + p.stdout
        assert "pip install 'newsrag[eval]'" in p.stdout
    out = tmp_path / "out"
    assert (out / "report.md").exists() and (out / "results.json").exists()
    assert not (out / "scores_by_category.png").exists()
    assert "matplotlib is not installed" in (out / "report.md").read_text("utf-8")
