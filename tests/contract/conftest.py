"""Prism mock servers for the contract tests, and the "Prism contract: N/153" summary line.

Two Prism processes serve ``openapi/bundled.yaml`` on free loopback ports for the whole session:
``strict`` (``--errors``) and ``lenient`` (Prism's default). Both validate requests and flag a
violation with an ``sl-violations`` header; ``strict`` always answers it with an error, ``lenient``
with the operation's declared 422 mock (every operation of this spec declares one). Both are
stopped (their process groups killed) at the end of the session.

The outcome of each ``test_operation_conforms_to_the_spec`` case is collected in a session-wide
:class:`ContractResults` (on ``config.stash``) and printed by :func:`pytest_terminal_summary`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from ..conftest import ROOT, SPEC_PATH, node_tool

STARTUP_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.25
STOP_TIMEOUT_S = 10.0
TOTAL_OPERATIONS = 153
CONTRACT_TEST = "test_operation_conforms_to_the_spec"
REASON_CHARS = 600


@dataclass
class ContractResults:
    """Outcome of each operation's contract case: ``None`` when it passed, else the reason."""

    outcomes: dict[str, str | None] = field(default_factory=dict)

    def record(self, operation_id: str, reason: str | None) -> None:
        self.outcomes[operation_id] = reason

    def passing(self) -> int:
        return sum(1 for reason in self.outcomes.values() if reason is None)

    def failures(self) -> list[tuple[str, str]]:
        return sorted((op, reason) for op, reason in self.outcomes.items() if reason is not None)


RESULTS_KEY = pytest.StashKey[ContractResults]()


@dataclass(frozen=True)
class PrismServer:
    """A running Prism mock: its base URL, mode and log file."""

    url: str
    mode: str
    log: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, lines: int = 20) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that are free right now."""
    with contextlib.ExitStack() as stack:
        sockets = [
            stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            for _ in range(count)
        ]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def _start(prism: Path, mode: str, port: int, log: Path) -> PrismServer:
    command = [str(prism), "mock", str(SPEC_PATH), "-h", "127.0.0.1", "-p", str(port)]
    if mode == "strict":
        command.append("--errors")
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return PrismServer(f"http://127.0.0.1:{port}", mode, log, process)


def _wait_until_serving(server: PrismServer, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            message = f"Prism ({server.mode}) exited with {server.process.returncode}:\n{server.log_tail()}"
            raise RuntimeError(message)
        try:
            httpx.get(f"{server.url}/id/api/users/current", timeout=2.0)
        except httpx.TransportError:
            time.sleep(POLL_INTERVAL_S)
        else:
            return
    message = f"Prism ({server.mode}) did not serve within {STARTUP_TIMEOUT_S:.0f} s:\n{server.log_tail()}"
    raise RuntimeError(message)


def _stop(server: PrismServer) -> None:
    if server.process.poll() is not None:
        return
    os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=STOP_TIMEOUT_S)


@pytest.fixture(scope="session")
def prism_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, PrismServer]]:
    """A strict (``--errors``) and a lenient Prism serving the spec on loopback, for the session."""
    prism = node_tool("prism")
    if shutil.which("node") is None:
        pytest.skip("Prism needs Node.js on PATH; install Node.js 20, then run `make node`")
    logs = tmp_path_factory.mktemp("prism")
    modes = ("strict", "lenient")
    servers = {
        mode: _start(prism, mode, port, logs / f"{mode}.log")
        for mode, port in zip(modes, free_ports(len(modes)), strict=True)
    }
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        for server in servers.values():
            _wait_until_serving(server, deadline)
        yield servers
    finally:
        for server in servers.values():
            _stop(server)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Record the outcome of each operation's contract case (setup errors and skips included)."""
    report = yield
    callspec = getattr(item, "callspec", None)
    if getattr(item, "originalname", None) != CONTRACT_TEST or callspec is None:
        return report
    if report.when == "call" or (report.when == "setup" and not report.passed):
        results = item.config.stash.setdefault(RESULTS_KEY, ContractResults())
        operation_id = str(callspec.params["operation_id"])
        if report.passed:
            results.record(operation_id, None)
        elif hasattr(report, "wasxfail"):
            results.record(operation_id, f"xfail: {report.wasxfail}")
        elif call.excinfo is not None:
            lines = str(call.excinfo.value).strip().splitlines() or [call.excinfo.typename]
            results.record(operation_id, lines[0][:REASON_CHARS])
        else:  # strict XPASS
            results.record(operation_id, f"{report.longreprtext}: remove it from KNOWN_BUGS")
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print "Prism contract: N/153 operations passing" and each failing operation's reason."""
    results = terminalreporter.config.stash.get(RESULTS_KEY, None)
    if results is None or not results.outcomes:
        return
    terminalreporter.section("Prism contract")
    terminalreporter.write_line(
        f"Prism contract: {results.passing()}/{TOTAL_OPERATIONS} operations passing"
        f" ({len(results.outcomes)} run)"
    )
    for operation_id, reason in results.failures():
        terminalreporter.write_line(f"  {operation_id}: {reason}")
