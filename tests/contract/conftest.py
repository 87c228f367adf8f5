"""Prism mock servers for the contract tests, and the summary lines of both contract suites.

Two Prism processes serve ``openapi/bundled.yaml`` on free loopback ports for the whole session:
``strict`` (``--errors``) and ``lenient`` (Prism's default). Both validate requests and flag a
violation with an ``sl-violations`` header; ``strict`` always answers it with an error, ``lenient``
with the operation's declared 422 mock (every operation of this spec declares one). Both are
stopped (their process groups killed) at the end of the session.

The outcome of each ``test_operation_conforms_to_the_spec`` case (Prism) and of each
``test_emulator_answers_conform_to_the_spec`` case (the emulator under schemathesis) is collected
per operation in a session-wide :class:`ContractResults` (on ``config.stash``) and printed by
:func:`pytest_terminal_summary`: "Prism contract: N/153 operations passing" and
"Emulator conformance: N/153 operations conform".
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from schemathesis.errors import FailureGroup

from ..conftest import ROOT, SPEC_PATH, node_tool

STARTUP_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.25
STOP_TIMEOUT_S = 10.0
TOTAL_OPERATIONS = 153
CONTRACT_TEST = "test_operation_conforms_to_the_spec"
EMULATOR_TEST = "test_emulator_answers_conform_to_the_spec"
REASON_CHARS = 600


@dataclass
class ContractResults:
    """Outcome of each operation's contract case: ``None`` when it passed, else the reason."""

    outcomes: dict[str, str | None] = field(default_factory=dict)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    """Statuses answered per operation (the emulator suite records them)."""
    allowed: Counter[str] = field(default_factory=Counter)
    """Answers admitted by a documented allowance, per operation (the deep-page 500)."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Operations not run, with the reason (the emulator does not implement them yet)."""

    def record(self, operation_id: str, reason: str | None) -> None:
        self.outcomes[operation_id] = reason

    def passing(self) -> int:
        return sum(1 for reason in self.outcomes.values() if reason is None)

    def failures(self) -> list[tuple[str, str]]:
        return sorted((op, reason) for op, reason in self.outcomes.items() if reason is not None)


RESULTS_KEY = pytest.StashKey[ContractResults]()
EMULATOR_RESULTS_KEY = pytest.StashKey[ContractResults]()
SUITES = {CONTRACT_TEST: RESULTS_KEY, EMULATOR_TEST: EMULATOR_RESULTS_KEY}
"""Test name → where the outcome of each of its operation cases is recorded."""


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
    key = SUITES.get(getattr(item, "originalname", ""))
    if key is None or callspec is None:
        return report
    if report.when == "call" or (report.when == "setup" and not report.passed):
        results = item.config.stash.setdefault(key, ContractResults())
        operation_id = str(callspec.params["operation_id"])
        if report.skipped and not hasattr(report, "wasxfail"):
            results.skipped[operation_id] = (
                _reason(call.excinfo.value) if call.excinfo else "skipped"
            )
        elif report.passed:
            results.record(operation_id, None)
        elif hasattr(report, "wasxfail"):
            results.record(operation_id, f"xfail: {report.wasxfail}")
        elif call.excinfo is not None:
            results.record(operation_id, _reason(call.excinfo.value)[:REASON_CHARS])
        else:  # strict XPASS
            results.record(operation_id, f"{report.longreprtext}: remove it from KNOWN_BUGS")
    return report


def _reason(exc: BaseException) -> str:
    """One line: each schemathesis failure as "<title>: <first line>", else the error's first line."""
    if isinstance(exc, FailureGroup):
        return "; ".join(
            dict.fromkeys(
                f"{failure.title}: {failure.message.strip().splitlines()[0]}"
                if failure.message.strip()
                else failure.title
                for failure in exc.exceptions
            )
        )
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _answer_spread(results: ContractResults) -> str:
    """ "2052 cases: 751 2xx, 1297 4xx, 4 deep-page 500s (allowed)" from the recorded statuses."""
    classes: Counter[str] = Counter()
    for statuses in results.statuses.values():
        for status, count in statuses.items():
            classes[f"{status // 100}xx"] += count
    total, allowed = classes.total(), results.allowed.total()
    classes["5xx"] -= allowed
    parts = [f"{count} {kind}" for kind, count in sorted(classes.items()) if count]
    if allowed:
        parts.append(f"{allowed} deep-page 500s (allowed)")
    return f"{total} cases: {', '.join(parts)}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print each suite's "N/total operations" line and each failing operation's reason."""
    stash = terminalreporter.config.stash
    prism = stash.get(RESULTS_KEY, None)
    if prism is not None and prism.outcomes:
        terminalreporter.section("Prism contract")
        terminalreporter.write_line(
            f"Prism contract: {prism.passing()}/{TOTAL_OPERATIONS} operations passing"
            f" ({len(prism.outcomes)} run)"
        )
        for operation_id, reason in prism.failures():
            terminalreporter.write_line(f"  {operation_id}: {reason}")
    emulator = stash.get(EMULATOR_RESULTS_KEY, None)
    if emulator is not None and (emulator.outcomes or emulator.skipped):
        terminalreporter.section("Emulator conformance")
        skipped = (
            f", {len(emulator.skipped)} not implemented: {', '.join(sorted(emulator.skipped))}"
            if emulator.skipped
            else ""
        )
        terminalreporter.write_line(
            f"Emulator conformance: {emulator.passing()}/{TOTAL_OPERATIONS} operations"
            f" conform ({len(emulator.outcomes)} run{skipped}; {_answer_spread(emulator)})"
        )
        for operation_id, reason in emulator.failures():
            terminalreporter.write_line(f"  {operation_id}: {reason}")
