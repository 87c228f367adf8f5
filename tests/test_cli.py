"""The `getsales` command line against the emulator served on loopback (real HTTP)."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from getsales_async import AsyncGetSales, AsyncRateLimiter, RateLimit
from getsales_async._checkpoint import read_records
from getsales_async._cli import main
from getsales_async.testing import GetSalesEmulator
from getsales_async.testing.emulator import serve_in_thread

from .request_gate import SEARCH_PATH, UPSERT_PATH, RequestGate

HEADER = [
    "first_name",
    "last_name",
    "Company",
    "Job Title",
    "work_email",
    "LinkedIn URL",
    "tags",
    "cf:segment",
]
WRITES = {"POST", "PUT", "DELETE"}
READ_POSTS = {"searchLeads", "countLeads", "lookupOneLead", "listCompanies", "lookupCompany"}
FAST = ["--rate-limit", "100000"]
# `python -m getsales_async` with Ctrl-C delivered as in a terminal: a job started in the
# background by a non-interactive shell (a CI script's `&`) inherits SIGINT ignored.
WITH_CTRL_C = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('getsales_async', run_name='__main__', alter_sys=True)"
)

Served = tuple[GetSalesEmulator, str]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """An emulator with its own key, served on a loopback port; the CLI environment points at it."""
    key = f"cli-{uuid.uuid4().hex}"
    emulator = GetSalesEmulator(api_keys={key: 1}, quota=None)
    with serve_in_thread(emulator.app) as url:
        monkeypatch.setenv("GETSALES_API_KEY", key)
        monkeypatch.setenv("GETSALES_BASE_URL", url)
        monkeypatch.delenv("GETSALES_REDIS_URL", raising=False)
        yield emulator, url


Gated = tuple[GetSalesEmulator, str, RequestGate]


@pytest.fixture(params=[UPSERT_PATH])
def gated(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Gated]:
    """Like ``served``, with a :class:`RequestGate` on the path ``request.param`` (upserts unless
    a test parametrizes it indirectly): interrupt tests stop runs with it."""
    key = f"cli-{uuid.uuid4().hex}"
    emulator = GetSalesEmulator(api_keys={key: 1}, quota=None)
    gate = RequestGate(emulator.app, request.param)
    with serve_in_thread(gate) as url:
        monkeypatch.setenv("GETSALES_API_KEY", key)
        monkeypatch.setenv("GETSALES_BASE_URL", url)
        monkeypatch.delenv("GETSALES_REDIS_URL", raising=False)
        try:
            yield emulator, url, gate
        finally:
            gate.start_run(None)  # release anything still held before the server stops


def api(url: str, work: Callable[[AsyncGetSales], Any]) -> Any:
    """Run ``work(client)`` against the served emulator (to set up or inspect through the API)."""

    async def go() -> Any:
        own = AsyncRateLimiter(RateLimit(requests=100_000, period=60.0, burst=100))  # not the CLI's
        async with AsyncGetSales(
            api_key=os.environ["GETSALES_API_KEY"], base_url=url, rate_limit=own
        ) as client:
            return await work(client)

    return anyio.run(go)


def row(i: int, *, domain: str | None = None) -> list[str]:
    return [
        f"F{i}",
        f"L{i}",
        f"Co{i}",
        "=CTO" if i % 5 == 0 else "CTO",
        f"p{i}@{domain or f'co{i}.example'}",
        f"https://www.linkedin.com/in/p-{i}",
        "cli;test",
        ("ent", "smb")[i % 2],
    ]


def write_csv(
    path: Path, rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ","
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def report_of(out: str) -> dict[str, Any]:
    report = dict(json.loads(out.strip().splitlines()[-1]))
    assert "error" not in report or report["exit_code"] in (2, 3), report
    return report


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))


def writes(emulator: GetSalesEmulator) -> list[str]:
    return [
        str(r.operation_id)
        for r in emulator.requests
        if r.method in WRITES and r.operation_id not in READ_POSTS
    ]


def segment_field(url: str) -> None:
    api(url, lambda c: c.custom_fields.create(name="segment", object="lead"))


class TestImport:
    def test_fix_and_resume(
        self, served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """4 of 10 rows blacklisted: exit 1, failed CSV with every column; unblocked, --resume imports them: exit 0."""
        emulator, url = served
        segment_field(url)
        source = write_csv(
            tmp_path / "c.csv",
            [row(i, domain="blocked.example" if i in (1, 4, 6, 9) else None) for i in range(10)],
        )
        entry = api(url, lambda c: c.blacklist.add_company(domain="blocked.example"))
        code, out, err = cli(
            capsys, *FAST, "import-leads", str(source), "--list", "Fix", "--create-list", "--json"
        )
        assert code == 1, err + out
        assert (
            report_of(out)["still_failing"] == 4 and "'LinkedIn URL' -> linkedin_id (alias)" in err
        )
        failed = read_csv(tmp_path / "c.csv.failed.csv")
        assert [f["import_line"] for f in failed] == ["3", "6", "8", "11"]
        assert list(failed[0]) == ["import_line", "import_error", *HEADER]
        assert (
            failed[1]["cf:segment"] == "ent"
            and failed[0]["Job Title"] == "CTO"
            and "blacklist" in failed[0]["import_error"]
        )
        api(url, lambda c: c.blacklist.remove_company(str(entry.uuid)))
        code, out, err = cli(
            capsys, *FAST, "import-leads", str(source), "--list", "Fix", "--resume", "--json"
        )
        report = report_of(out)
        assert code == 0, err
        assert (
            report["retried"],
            report["already_done"],
            report["created"],
            report["still_failing"],
        ) == (4, 6, 4, 0)
        assert len(emulator.state.leads) == 10 and read_csv(tmp_path / "c.csv.failed.csv") == []
        positions = sorted(lead["position"] for lead in emulator.state.leads.values())
        assert positions.count("=CTO") == 2  # the file's value, not its spreadsheet-safe form

    def test_dry_run_reads_the_server_and_writes_nothing(
        self, served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--dry-run checks the key, list and custom fields, prints the mapping and plan, and writes nothing."""
        emulator, url = served
        source = write_csv(tmp_path / "c.csv", [row(i) for i in range(6)] + [["Bad", "row"]])
        code, _out, err = cli(
            capsys, "import-leads", str(source), "--list", "Dry", "--create-list", "--dry-run"
        )
        assert code == 2 and "custom field(s) 'segment' do not exist" in err
        segment_field(url)
        code, out, err = cli(
            capsys,
            "import-leads",
            str(source),
            "--list",
            "Dry",
            "--create-list",
            "--dry-run",
            "--tag",
            "q4",
        )
        assert code == 1, err  # the malformed row would fail
        assert (
            "'Company' -> company_name (alias)" in out and "would be created (--create-list)" in out
        )
        assert (
            "tags that would be created: cli, q4, test" in out
            and "6 would be sent, 1 cannot be sent" in out
        )
        assert "line 8: malformed row" in out
        assert writes(emulator) == ["createCustomField"] and emulator.state.lists == {}

    def test_unknown_columns_stop_unless_ignored_and_aliases_map(
        self, served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """foo stops the import with a list of unknown columns; ignored, the rest maps by alias on a ; file."""
        emulator, _url = served
        header = ["First Name", "linkedin_url", "Email", "foo"]
        source = write_csv(
            tmp_path / "c.csv",
            [["Ann", "https://www.linkedin.com/in/ann", "ann@x.example", "?"]],
            header,
            ";",
        )
        code, _out, err = cli(capsys, "import-leads", str(source), "--list", "L", "--create-list")
        assert code == 2 and "'foo'" in err and "--ignore-unknown-columns" in err
        code, _out, err = cli(
            capsys,
            *FAST,
            "import-leads",
            str(source),
            "--list",
            "L",
            "--create-list",
            "--ignore-unknown-columns",
        )
        assert code == 0, err
        assert "semicolon-delimited" in err and "'foo' -> ignored" in err
        [lead] = emulator.state.leads.values()
        assert (lead["first_name"], lead["linkedin"], lead["work_email"]) == (
            "Ann",
            "https://www.linkedin.com/in/ann",
            "ann@x.example",
        )

    def test_move_to_list_no_update_and_tags(
        self, served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--move-to-list moves existing contacts (so exporting the list finds them); --tag tags them."""
        emulator, url = served
        segment_field(url)
        source = write_csv(tmp_path / "c.csv", [row(i) for i in range(3)])
        assert (
            cli(capsys, *FAST, "import-leads", str(source), "--list", "A", "--create-list")[0] == 0
        )
        code, out, err = cli(
            capsys,
            *FAST,
            "import-leads",
            str(source),
            "--list",
            "B",
            "--create-list",
            "--restart",
            "--move-to-list",
            "--tag",
            "moved",
            "--json",
        )
        assert code == 0 and report_of(out)["updated"] == 3, err
        exported = tmp_path / "b.csv"
        assert cli(capsys, *FAST, "export-leads", str(exported), "--list", "B")[0] == 0
        assert len(read_csv(exported)) == 3 and all(
            "moved" in r["tags"] for r in read_csv(exported)
        )
        code, out, _err = cli(
            capsys,
            *FAST,
            "import-leads",
            str(source),
            "--list",
            "B",
            "--restart",
            "--no-update",
            "--json",
        )
        assert code == 0 and report_of(out)["skipped"] == 3
        assert len(emulator.state.leads) == 3

    def test_killed_at_random_points_every_row_exactly_once(
        self, gated: Gated, tmp_path: Path
    ) -> None:
        """SIGKILL at 6 random points, resumed each time: every row succeeds exactly once; failed rows are retried."""
        emulator, url, gate = gated
        segment_field(url)
        entry = api(url, lambda c: c.blacklist.add_company(domain="blocked.example"))
        rows = [row(i, domain="blocked.example" if i % 10 == 3 else None) for i in range(400)]
        source = write_csv(tmp_path / "big.csv", rows)
        checkpoint = tmp_path / "big.csv.checkpoint"
        cmd = [
            sys.executable,
            "-m",
            "getsales_async",
            *FAST,
            "import-leads",
            str(source),
            "--list",
            "Kill",
            "--create-list",
            "--concurrency",
            "4",
            "--resume",
        ]
        env = dict(os.environ)

        def recorded() -> int:
            return checkpoint.read_bytes().count(b'"t":"row"') if checkpoint.exists() else 0

        rng = random.Random(20261207)
        for _ in range(6):  # each run is killed a random number of results after it started
            results = rng.randint(5, 55)
            target = recorded() + results
            gate.start_run(results)  # the run cannot get past this many upserts
            proc = subprocess.Popen(
                cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            while proc.poll() is None and recorded() < target:
                time.sleep(0.005)
            assert proc.poll() is None, "the run ended before it could be killed"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        gate.start_run(None)
        api(url, lambda c: c.blacklist.remove_company(str(entry.uuid)))
        final = subprocess.run(
            [*cmd, "--json"], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert final.returncode == 0, final.stderr[-2000:]
        records = [r for _, _, r in read_records(checkpoint) if r["t"] == "row"]
        successes = Counter(r["i"] for r in records if r["s"] != "failed")
        assert successes == Counter(range(400))  # every row succeeded, and only once
        retried = {r["i"] for r in records if r["s"] == "failed"}  # failed in a run, then retried
        assert len(retried) >= 5 and retried <= {i for i in range(400) if i % 10 == 3}
        assert sum(1 for _, _, r in read_records(checkpoint) if r["t"] == "run") == 7
        assert len(emulator.state.leads) == 400
        assert read_csv(tmp_path / "big.csv.failed.csv") == []

    def test_ctrl_c_exits_130_and_resume_finishes(self, gated: Gated, tmp_path: Path) -> None:
        """SIGINT mid-job: exit 130, one line, checkpoint and failed CSV written; --resume finishes it."""
        emulator, _url, gate = gated
        gate.start_run(20)  # the run stops at 20 upserts until the signal: it cannot finish first
        source = write_csv(tmp_path / "c.csv", [[f"p{i}@x.example"] for i in range(300)], ["email"])
        checkpoint = tmp_path / "c.csv.checkpoint"
        cmd = [
            sys.executable,
            "-c",
            WITH_CTRL_C,
            "--rate-limit",
            "6000",
            "import-leads",
            str(source),
        ]
        cmd += ["--list", "Int", "--create-list", "--concurrency", "2"]
        proc = subprocess.Popen(
            cmd, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        while proc.poll() is None and (
            not checkpoint.exists() or checkpoint.read_bytes().count(b'"t":"row"') < 20
        ):
            time.sleep(0.005)
        proc.send_signal(signal.SIGINT)
        try:
            _out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:  # never leave a hung child (or its pipes) behind
                proc.kill()
                proc.communicate()
            gate.start_run(None)
        assert (
            proc.returncode == 130
            and err.splitlines()[-1]
            == "getsales: error: interrupted; rerun with --resume to continue"
        )
        assert (
            (tmp_path / "c.csv.failed.csv").read_text().startswith("import_line,import_error,email")
        )
        done = subprocess.run(
            [*cmd[:4], "100000", *cmd[5:], "--resume", "--json"],
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0 and report_of(done.stdout)["already_done"] >= 20, done.stderr[
            -2000:
        ]
        assert len(emulator.state.leads) == 300


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


MISTAKES: list[tuple[str, Callable[[Path, str], list[str]], int, str]] = [
    (
        "missing file",
        lambda d, u: ["import-leads", str(d / "nope.csv"), "--list", "L"],
        2,
        "does not exist",
    ),
    ("a directory", lambda d, u: ["import-leads", str(d), "--list", "L"], 2, "is a directory"),
    (
        "duplicate header",
        lambda d, u: [
            "import-leads",
            str(write_csv(d / "c.csv", [], ["email", "email"])),
            "--list",
            "L",
        ],
        2,
        "column 'email' twice",
    ),
    (
        "unknown column",
        lambda d, u: [
            "import-leads",
            str(write_csv(d / "c.csv", [], ["email", "foo"])),
            "--list",
            "L",
        ],
        2,
        "'foo'",
    ),
    (
        "bad --map",
        lambda d, u: [
            "import-leads",
            str(write_csv(d / "c.csv", [], ["email"])),
            "--list",
            "L",
            "--map",
            "nothing",
        ],
        2,
        '"Header=field"',
    ),
    (
        "bad --delimiter",
        lambda d, u: [
            "import-leads",
            str(write_csv(d / "c.csv", [], ["email"])),
            "--list",
            "L",
            "--delimiter",
            "x",
        ],
        2,
        "comma, semicolon",
    ),
    (
        "--concurrency 0",
        lambda d, u: ["import-leads", str(d / "c.csv"), "--list", "L", "--concurrency", "0"],
        2,
        "must be at least 1",
    ),
    (
        "unknown option",
        lambda d, u: ["import-leads", "f.csv", "--list", "L", "--bogus"],
        2,
        "unrecognized arguments: --bogus",
    ),
    (
        "unknown list",
        lambda d, u: ["import-leads", str(write_csv(d / "c.csv", [row(0)])), "--list", "Typo"],
        2,
        "no list 'Typo'",
    ),
    (
        "unknown custom field",
        lambda d, u: [
            "import-leads",
            str(write_csv(d / "c.csv", [row(0)])),
            "--list",
            "L",
            "--create-list",
        ],
        2,
        "'segment' do not exist",
    ),
    (
        "non-JSON checkpoint",
        lambda d, u: [
            "import-leads",
            str(write_csv(d / "c.csv", [["a@x.example"]], ["email"])),
            "--list",
            "L",
            "--resume",
            "--checkpoint",
            str(write_csv(d / "cp.csv", [["1"]], ["x"])),
        ],
        2,
        "not a checkpoint file",
    ),
    (
        "checkpoint exists",
        lambda d, u: [
            "import-leads",
            str(write_csv(d / "c.csv", [["a@x.example"]], ["email"])),
            "--list",
            "L",
            "--checkpoint",
            str(_checkpoint_of(d)),
        ],
        2,
        "pass --resume",
    ),
    (
        "--resume another list",
        lambda d, u: [
            "import-leads",
            str(write_csv(d / "c.csv", [["a@x.example"]], ["email"])),
            "--list",
            "Other",
            "--create-list",
            "--resume",
            "--checkpoint",
            str(_checkpoint_of(d)),
        ],
        2,
        "the list was 'First'",
    ),
    (
        "--resume and --restart",
        lambda d, u: [
            "import-leads",
            str(write_csv(d / "c.csv", [["a@x.example"]], ["email"])),
            "--list",
            "L",
            "--resume",
            "--restart",
        ],
        2,
        "contradict",
    ),
    (
        "failed CSV in a missing directory",
        lambda d, u: [
            "import-leads",
            str(write_csv(d / "c.csv", [["a@x.example"]], ["email"])),
            "--list",
            "L",
            "--failed-csv",
            str(d / "no" / "f.csv"),
        ],
        2,
        "does not exist",
    ),
    (
        "export to a missing directory",
        lambda d, u: ["export-leads", str(d / "no" / "out.csv")],
        2,
        "does not exist",
    ),
    (
        "invalid --filter JSON",
        lambda d, u: ["export-leads", str(d / "out.csv"), "--filter", "{q: cto}"],
        2,
        "--filter is not JSON",
    ),
    (
        "--filter not an object",
        lambda d, u: ["export-leads", str(d / "out.csv"), "--filter", "[1]"],
        2,
        "must be a JSON object",
    ),
    (
        "export of an unknown list",
        lambda d, u: ["export-leads", str(d / "out.csv"), "--list", "Typo"],
        2,
        "no list 'Typo'",
    ),
    (
        "unreachable host",
        lambda d, u: ["--base-url", closed_port_url(), "whoami"],
        2,
        "cannot reach http://127.0.0.1:",
    ),
    ("wrong API key", lambda d, u: ["whoami", "--base-url", u], 3, "refused the API key"),
    (
        "port already in use",
        lambda d, u: ["emulator", "serve", "--port", u.rsplit(":", 1)[1]],
        2,
        "choose another --port",
    ),
]


def _checkpoint_of(directory: Path) -> Path:
    """A checkpoint of an earlier run of c.csv into the list 'First'."""
    from getsales_async._import_checkpoint import ImportCheckpoint, JobMeaning

    path = directory / "c.csv.checkpoint"
    store = ImportCheckpoint.start(
        path,
        input_name=str((directory / "c.csv").resolve()),
        meaning=JobMeaning("list-uuid"),
        labels={"list": "First"},
        resume=False,
    )
    store.close()
    return path


class TestMistakes:
    @pytest.mark.parametrize(
        ("name", "argv", "code", "needle"), MISTAKES, ids=[m[0] for m in MISTAKES]
    )
    def test_each_mistake_is_one_line_and_its_exit_code(
        self,
        served: Served,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        name: str,
        argv: Callable[[Path, str], list[str]],
        code: int,
        needle: str,
    ) -> None:
        """A mistake gives one line on stderr (no traceback), its exit code, and writes nothing."""
        emulator, url = served
        api(url, lambda c: c.lists.create(name="L"))
        if name == "wrong API key":
            monkeypatch.setenv("GETSALES_API_KEY", "wrong-key-0123456789")
        before = writes(emulator)
        got, out, err = cli(capsys, *argv(tmp_path, url))
        assert (got, out) == (code, ""), err
        assert (
            len(err.splitlines()) == 1 and err.startswith("getsales: error: ") and needle in err
        ), err
        assert "Traceback" not in err and writes(emulator) == before

    def test_missing_key_is_a_clear_error(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without GETSALES_API_KEY the CLI exits 2 and says what to set."""
        monkeypatch.delenv("GETSALES_API_KEY", raising=False)
        code, _out, err = cli(capsys, "whoami")
        assert code == 2 and "GETSALES_API_KEY" in err and len(err.splitlines()) == 1

    def test_emulator_serve_without_its_extra(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`emulator serve` without uvicorn installed says which extra to install."""
        monkeypatch.setitem(sys.modules, "uvicorn", None)
        code, _out, err = cli(capsys, "emulator", "serve")
        assert code == 2 and "pip install 'getsales-async[emulator]'" in err

    def test_debug_shows_the_traceback(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """--debug prints the traceback before the one-line error."""
        monkeypatch.setenv("GETSALES_API_KEY", "any-key-0123456789")
        code, _out, err = cli(capsys, "export-leads", str(tmp_path / "no" / "x.csv"), "--debug")
        assert (
            code == 2 and "Traceback" in err and err.splitlines()[-1].startswith("getsales: error:")
        )

    def test_json_errors_carry_the_exit_code(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With --json an error is also one JSON object on stdout with its exit code."""
        monkeypatch.setenv("GETSALES_API_KEY", "any-key-0123456789")
        code, out, _err = cli(
            capsys, "--json", "import-leads", str(tmp_path / "none.csv"), "--list", "L"
        )
        assert (
            code == 2
            and report_of(out)["exit_code"] == 2
            and "does not exist" in report_of(out)["error"]
        )


class TestOptionsAndHelp:
    def test_global_options_go_before_or_after_the_command(
        self, served: Served, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--json and --base-url work before and after the command name."""
        _emulator, url = served
        before = cli(capsys, "--json", "--base-url", url, "whoami")
        after = cli(capsys, "whoami", "--json", "--base-url", url)
        assert before[0] == after[0] == 0 and report_of(before[1]) == report_of(after[1])
        assert report_of(before[1])["teams"][0]["id"] == 1

    def test_version_and_help_document_the_exit_codes(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--version prints the version; --help and import-leads --help list the exit codes."""
        code, out, _err = cli(capsys, "--version")
        assert code == 0 and out.startswith("getsales 0.")
        for argv in (["--help"], ["import-leads", "--help"]):
            code, out, _err = cli(capsys, *argv)
            assert (
                code == 0
                and "exit codes:" in out
                and "130  interrupted" in out
                and "3    aborted" in out
            )

    def test_verbose_logs_each_retry_and_the_error_names_the_host(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """-v logs each retry decision with its reason; the final line names the unreachable host."""
        monkeypatch.setenv("GETSALES_API_KEY", "any-key-0123456789")
        url = closed_port_url()
        code, _out, err = cli(capsys, "-v", "whoami", "--base-url", url)
        lines = err.splitlines()
        assert code == 2 and lines[-1].startswith(f"getsales: error: cannot reach {url}")
        assert any("retry decision: retry" in line and "ConnectError" in line for line in lines)
        assert "any-key-0123456789" not in err


class TestExportAndWhoami:
    def test_exported_file_reimports_into_a_fresh_emulator(
        self,
        served: Served,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """export-leads writes every field, tags and cf: columns; import-leads of that file recreates the same contacts."""
        emulator, url = served
        segment_field(url)
        source = write_csv(tmp_path / "c.csv", [row(i) for i in range(150)])
        assert (
            cli(capsys, *FAST, "import-leads", str(source), "--list", "Exp", "--create-list")[0]
            == 0
        )
        out = tmp_path / "out.csv"
        code, text, err = cli(capsys, *FAST, "export-leads", str(out), "--list", "Exp")
        assert code == 0 and "exported 150 contacts" in text, err
        exported = read_csv(out)
        assert {r["work_email"] for r in exported} == {f"p{i}@co{i}.example" for i in range(150)}
        assert exported[0]["cf:segment"] in ("ent", "smb") and set(
            exported[0]["tags"].split("; ")
        ) == {"cli", "test"}
        key = f"fresh-{uuid.uuid4().hex}"
        fresh = GetSalesEmulator(api_keys={key: 1}, quota=None)
        with serve_in_thread(fresh.app) as fresh_url:
            monkeypatch.setenv("GETSALES_API_KEY", key)
            segment_field(fresh_url)
            code, _text, err = cli(
                capsys,
                *FAST,
                "import-leads",
                str(out),
                "--list",
                "Again",
                "--create-list",
                "--base-url",
                fresh_url,
            )
        assert code == 0, err

        def essence(em: GetSalesEmulator) -> set[tuple[Any, ...]]:
            tags = {t["uuid"]: t["name"] for t in em.state.tags.values()}
            return {
                (
                    lead["name"],
                    lead["company_name"],
                    lead["position"],
                    lead["work_email"],
                    lead["linkedin"],
                    frozenset(tags[t] for t in lead["tags"]),
                    frozenset(em.state.custom_values(lead, "lead").items()),
                )
                for lead in em.state.leads.values()
            }

        assert essence(fresh) == essence(emulator) and len(fresh.state.leads) == 150

    @pytest.mark.parametrize("gated", [SEARCH_PATH], indirect=True)
    def test_a_killed_export_resumes(self, gated: Gated, tmp_path: Path) -> None:
        """export-leads killed (SIGKILL) after its first checkpoint, then --resume: each contact once."""
        emulator, _url, gate = gated
        emulator.seed_leads(4_000)
        gate.start_run(15)  # 1,500 of 4,000 rows at most: past the first save (1,000), not done
        out = tmp_path / "all.csv"
        cmd = [
            sys.executable,
            "-m",
            "getsales_async",
            *FAST,
            "export-leads",
            str(out),
            "--concurrency",
            "2",
        ]
        proc = subprocess.Popen(
            cmd, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        state = tmp_path / "all.csv.export-checkpoint.json"
        deadline = time.monotonic() + 60
        while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        gate.start_run(None)
        assert state.exists() and not out.exists(), "the export should have been killed midway"
        resumed = subprocess.run(
            [*cmd, "--resume", "--json"],
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert report_of(resumed.stdout)["rows"] == 4_000
        exported = read_csv(out)
        assert len(exported) == 4_000 == len({r["uuid"] for r in exported}) and not state.exists()

    def test_whoami_prints_user_and_team(
        self, served: Served, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """whoami shows the key's user and team."""
        code, out, _err = cli(capsys, "whoami")
        assert code == 0 and out.startswith("user:") and "team:" in out
