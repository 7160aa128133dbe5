"""Issue 11, case 7 (command line): one bad line of `rag ask -` is one error object, and the
batch goes on. A real process, the real model, the real index."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_invalid_utf8_line_is_one_error_and_the_batch_goes_on(real_index, tmp_path):
    stdin = (b"Where was the seventh meeting held?\n"
             b"caf\xe9 \xff\xfe broken\n"
             b"\x00\x01 control \x1b[31m characters?\n"
             b"\n"
             + "谁主持了第七次会议座谈会？\n".encode())
    env = {**os.environ, "RAG_LOG_FILE": str(tmp_path / "rag.log")}
    p = subprocess.run([sys.executable, "-m", "rag.app.cli", "ask", "-", "--json", "--index-dir", str(real_index)],
                       input=stdin, capture_output=True, env=env, timeout=300)
    out = [json.loads(line) for line in p.stdout.decode().splitlines()]
    assert p.returncode == 1, p.stderr  # one line failed
    assert "Traceback" not in p.stderr.decode()
    assert len(out) == 4
    assert out[0]["answered"] and "Bishan" in out[0]["answer"]
    assert set(out[1]) == {"question", "error"}
    assert "line 2 is not valid UTF-8" in out[1]["error"] and out[1]["question"].startswith("caf")
    assert "error" not in out[2]  # control characters are blanked, the question is asked
    assert out[3]["answered"] and "袁家军" in out[3]["answer"]


def test_undecodable_argument_is_a_usage_error(real_index, tmp_path):
    env = {**os.environ, "RAG_LOG_FILE": str(tmp_path / "rag.log")}
    p = subprocess.run([sys.executable.encode(), b"-m", b"rag.app.cli", b"ask", b"caf\xe9 \xff?", b"--index-dir",
                        str(real_index).encode()], capture_output=True, env=env, timeout=300)
    assert p.returncode == 2 and b"not valid Unicode" in p.stderr and b"Traceback" not in p.stderr
