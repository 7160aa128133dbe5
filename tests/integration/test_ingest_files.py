"""Issue 11, cases 6, 8 and 9: what `rag ingest` does with files it cannot use, as a user runs
it (a real process). None of these cases needs the embedding model: nothing is embedded."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

RAG = [sys.executable, "-m", "rag.app.cli"]
ARTICLE = ("Quillmarsh Lantern Forum opens\n2024-05-01\n\n"
           "The Quillmarsh Lantern Forum was held in Quillmarsh on May 1, 2024, and was chaired by Delphine Raske.\n")


def rag(*args, tmp: Path, timeout=120, user: bool = False):
    env = {**os.environ, "RAG_LOG_FILE": str(tmp / "rag.log")}
    cmd = [*RAG, *args]
    if user:  # as an ordinary user: root reads every folder, whatever its mode
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
        env["HOME"] = str(tmp)
        env["PYTHONPATH"] = os.pathsep.join(sys.path)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=tmp)


@pytest.mark.parametrize("case", ["missing", "empty", "binary", "oversized"])
def test_ingest_of_nothing_usable_exits_1(tmp_path, case):
    """Case 8: an ingest that took nothing and refused something is a failure."""
    path = tmp_path / f"{case}.txt"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "binary":
        path.write_bytes(b"\x00\x01\x02binary" * 100)
    elif case == "oversized":
        with open(path, "wb") as fh:
            fh.truncate(6_000_000)  # sparse: over the 5 MB limit, costs no disk
    p = rag("ingest", str(path), "--index-dir", str(tmp_path / "index"), tmp=tmp_path)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "nothing was ingested" in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 2  # the reason for the file, then the verdict


def test_oversized_file_is_refused_before_it_is_read(tmp_path):
    """Case 6: a 2 GB (sparse) file costs a stat, not 2 GB of memory."""
    big = tmp_path / "huge.txt"
    with open(big, "wb") as fh:
        fh.truncate(2 * 1024**3)
    try:
        # A fresh parent whose only child is `rag ingest`: its RUSAGE_CHILDREN peak is that
        # child's own (ours would be the largest of every child this session started).
        probe = ("import json, resource, subprocess, sys\n"
                 "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
                 "print(json.dumps({'rc': p.returncode, 'stderr': p.stderr,\n"
                 "                  'kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n")
        out = subprocess.run([sys.executable, "-c", probe, *RAG, "ingest", str(big), "--index-dir",
                              str(tmp_path / "index")], capture_output=True, text=True, timeout=300,
                             env={**os.environ, "RAG_LOG_FILE": str(tmp_path / "rag.log")})
        p = json.loads(out.stdout)
    finally:
        big.unlink()
    assert p["rc"] == 1 and "limit for one article" in p["stderr"], p["stderr"]
    peak_mb = p["kb"] / 1024
    print(f"peak RSS of `rag ingest` on a 2 GB file: {peak_mb:.0f} MB")
    assert peak_mb < 600  # reading the file would take over 2,000 MB


@pytest.mark.slow
def test_fifo_symlink_loop_and_unreadable_folder_are_reported(tmp_path):
    """Case 9: each is skipped with a reason; the FIFO does not hang the ingest (or hold its lock)."""
    import tempfile

    tmp_path = Path(tempfile.mkdtemp(prefix="rag-files-"))  # pytest's own tmp is private to root
    os.chmod(tmp_path, 0o777)
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text(ARTICLE, "utf-8")
    os.mkfifo(folder / "pipe.txt")
    os.symlink(folder / "loop-b.txt", folder / "loop-a.txt")
    os.symlink(folder / "loop-a.txt", folder / "loop-b.txt")
    locked = folder / "private"
    locked.mkdir()
    (locked / "secret.txt").write_text(ARTICLE, "utf-8")
    locked.chmod(0o000)
    index = tmp_path / "index"
    index.mkdir()
    os.chmod(tmp_path, 0o777)
    for d in (folder, index):
        d.chmod(0o777)
    as_user = os.geteuid() == 0 and shutil.which("setpriv") is not None
    if os.geteuid() == 0 and not as_user:
        pytest.skip("running as root without setpriv: every folder is readable to root")
    t0 = time.monotonic()
    p = rag("ingest", str(folder), "--index-dir", str(index), tmp=tmp_path, timeout=300, user=as_user)
    assert p.returncode == 0, p.stderr
    err = p.stderr
    assert "FIFO" in err and "pipe.txt" in err
    assert "symbolic link loop" in err and "loop-a.txt" in err and "loop-b.txt" in err
    assert "folder cannot be read" in err and "private" in err
    assert "1 articles in the index" in p.stdout
    # a FIFO given alone: refused at once, exit 1, and the lock is not left held
    p = rag("ingest", str(folder / "pipe.txt"), "--index-dir", str(index), tmp=tmp_path, timeout=60, user=as_user)
    assert p.returncode == 1 and "FIFO" in p.stderr, p.stderr
    assert time.monotonic() - t0 < 240
    locked.chmod(0o700)
    shutil.rmtree(tmp_path, ignore_errors=True)
