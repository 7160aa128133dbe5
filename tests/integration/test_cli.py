"""The `rag` command as a user runs it: a real process, the real model, a real index."""

import json
import os
import subprocess
import sys

import pytest

from rag.app.cli import main
from rag.config import PROJECT_ROOT
from tests.support.corpus import SEVENTH

pytestmark = pytest.mark.slow
RAG = [sys.executable, "-m", "rag.app.cli"]


def run(*args, stdin=None, index=None):
    env = {**os.environ, "RAG_INDEX_DIR": str(index)} if index else dict(os.environ)
    return subprocess.run([*RAG, *args], input=stdin, capture_output=True, text=True, env=env, timeout=300)


def test_ask_json(real_index):
    p = run("ask", "Who attended the seventh meeting?", "--json", "--index-dir", str(real_index))
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["answered"] and "Yuan Jiajun" in data["answer"]
    assert data["citations"][0]["article_id"] == SEVENTH


def test_ask_reads_questions_from_stdin_one_json_per_line(real_index):
    p = run("ask", "-", "--json", stdin="Where was the seventh meeting held?\n\n谁主持了第七次会议座谈会？\n",
            index=real_index)
    assert p.returncode == 0, p.stderr
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    assert [d["answered"] for d in lines] == [True, True]
    assert "Bishan" in lines[0]["answer"] and "袁家军" in lines[1]["answer"]


def test_readable_answer_shows_the_cited_passages(real_index):
    p = run("ask", "Where was the seventh meeting held?", index=real_index)
    assert p.returncode == 0
    assert "Bishan" in p.stdout and "[1] The Seventh Sichuan-Chongqing" in p.stdout


def test_abstention_is_a_success(real_index):
    p = run("ask", "Who attended the eighth meeting?", "--json", index=real_index)
    assert p.returncode == 0
    assert json.loads(p.stdout)["answered"] is False


def test_stats_json(real_index):
    p = run("stats", "--json", index=real_index)
    data = json.loads(p.stdout)
    assert data["articles"] == 2 and data["documents"] == {"en": 2, "zh": 1}
    assert data["passages"] > 50 and data["index_bytes"] > 100_000


def test_missing_index_says_run_ingest(tmp_path):
    p = run("ask", "Who?", index=tmp_path / "nothing")
    assert p.returncode == 1
    assert "rag ingest" in p.stderr and len(p.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [["ask"], ["ask", "x", "--top-k", "0"], ["nonsense"]])
def test_usage_errors_exit_2(args):
    assert run(*args).returncode == 2


def test_empty_question_exits_2_with_a_message(real_index):
    p = run("ask", "   ", index=real_index)
    assert p.returncode == 2 and "empty" in p.stderr


def test_ingest_reports_and_skips_bad_files(tmp_path):
    from shutil import copytree
    folder = tmp_path / "a"
    copytree(PROJECT_ROOT / "data" / "articles", folder)
    (folder / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    (folder / "empty.html").write_text("")
    index = tmp_path / "idx"
    p = run("ingest", str(folder), "--index-dir", str(index), "--json")
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["articles"] == 2 and len(report["skipped"]) == 2
    assert "binary" in p.stderr and "empty" in p.stderr
    again = json.loads(run("ingest", str(folder), "--index-dir", str(index), "--json").stdout)
    assert again["passages_added"] == 0 and again["passages_unchanged"] == report["passages_added"]


def test_every_command_is_in_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text()
    for name in main.commands:
        assert f"rag {name}" in readme, name


def test_a_withheld_short_answer_is_said_so_before_the_sentences(real_index):
    p = run("ask", "What university did Hu Henghua graduate from?", index=real_index)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "(No short answer: these passages may not answer the question. Check them before relying on " \
                       "them.)" and "LOW CONFIDENCE" in p.stdout
    assert "[1]" in p.stdout  # the closest sentences, cited
    zh = run("ask", "胡衡华毕业于哪所大学？", index=real_index)  # in the question's language
    assert zh.returncode == 0 and zh.stdout.splitlines()[0].startswith("(不给出简短答案"), zh.stdout
