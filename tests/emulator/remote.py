"""The emulator as a separate process (`python -m tests.emulator.server`), read and steered over its admin
endpoints: for tests where a Pulumi provider process, or a command run as a subprocess, talks to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import PROJECT_ROOT

START_TIMEOUT = 90.0  # seconds: Prism's start (and its install on first use) included


class RemoteEmulator:
    """What `CloudflareEmulator` offers, for an emulator in another process (JSON over /__emulator/)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _call(self, method: str, what: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base_url}/__emulator/{what}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read() or b"null")

    def state(self) -> dict:
        return self._call("GET", "state")

    def requests(self) -> list[dict]:
        return self._call("GET", "log")

    def violations(self) -> list[str]:
        return self._call("GET", "violations")

    def add_fault(self, method: str, path: str, action: str, **options: Any) -> dict:
        return self._call("POST", "faults", {"method": method, "path": path, "action": action, **options})

    def configure(self, **options: Any) -> None:
        self._call("POST", "config", options)

    def seed(self, data: dict) -> dict:
        return self._call("POST", "seed", data)

    def reset(self) -> None:
        self._call("POST", "reset", {})

    def advance(self, seconds: float) -> None:
        self._call("POST", "clock", {"advance": seconds})


@contextmanager
def emulator_process(*, port: int = 0, seed_file: Path | None = None, prism: bool = True,
                     extra: tuple[str, ...] = (), log: Path | None = None) -> Iterator[RemoteEmulator]:
    """Start the emulator process, wait for its address, stop it (SIGTERM, then kill) at the end."""
    command = [sys.executable, "-m", "tests.emulator.server", "--port", str(port), *extra]
    if seed_file is not None:
        command += ["--seed-file", str(seed_file)]
    if not prism:
        command.append("--no-prism")
    if log is not None:
        command += ["--logs", str(log)]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = _first_line(process)
        if not line.startswith("CLOUDFLARE_BASE_URL="):
            raise RuntimeError(f"the emulator process did not start: {line!r}\n{process.stderr.read()[-3000:]}")
        yield RemoteEmulator(line.split("=", 1)[1].strip())
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _first_line(process: subprocess.Popen) -> str:
    import threading

    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT)
    return lines[0] if lines else ""
