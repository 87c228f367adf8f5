"""`getsales import-leads --strategy auto|rows|file` against the emulator served on loopback."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from getsales_async._cli import _strategy
from getsales_async.testing import BulkConfig, GetSalesEmulator
from getsales_async.testing.emulator import serve_in_thread

from .test_cli import FAST, HEADER, api, cli, report_of, row, write_csv, writes

ROOT = Path(__file__).resolve().parent.parent
DEMO_SAMPLE = ROOT / "examples" / "contacts.csv"
BLOCKED_DOMAIN = "blocked-corp.example"  # as examples/demo.py blacklists them
BLOCKED_LINKEDIN_PREFIX = "https://www.linkedin.com/in/blocked-person-"
INSTANT = BulkConfig(rows_per_second=1e7)  # the server imports a file before the first poll
QUICK_IDLE = ["--idle-timeout", "0.3"]  # rows not in the list 0.3 s after the count settled
NO_CF = ["--map", "cf:segment="]  # a file import cannot set custom fields

Serve = Callable[..., contextlib.AbstractContextManager[tuple[GetSalesEmulator, str]]]


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Serve:
    """Serve a fresh emulator (own key, no quota, ``bulk`` config) and point the CLI at it."""

    @contextlib.contextmanager
    def start(bulk: BulkConfig = INSTANT) -> Iterator[tuple[GetSalesEmulator, str]]:
        key = f"strategy-{uuid.uuid4().hex}"
        emulator = GetSalesEmulator(api_keys={key: 1}, quota=None, bulk=bulk)
        with serve_in_thread(emulator.app) as url:
            monkeypatch.setenv("GETSALES_API_KEY", key)
            monkeypatch.setenv("GETSALES_BASE_URL", url)
            monkeypatch.delenv("GETSALES_REDIS_URL", raising=False)
            yield emulator, url

    return start


def operations(emulator: GetSalesEmulator, operation_id: str) -> int:
    return sum(1 for r in emulator.requests if r.operation_id == operation_id)


def plain_rows(count: int, tags: str = "a;b") -> list[list[str]]:
    """Rows of the test CSV without the custom field (a file import cannot set it)."""
    return [[*row(i)[:6], tags] for i in range(count)]


PLAIN_HEADER = [
    "first_name",
    "last_name",
    "Company",
    "Job Title",
    "work_email",
    "LinkedIn URL",
    "tags",
]


AUTO_CASES: list[tuple[str, str, list[str], str, str]] = [
    # name, file, extra options, strategy, reason
    ("small", "plain", [], "rows", "6 rows, not more than 2,000"),
    ("large", "plain", [], "file", "6 rows, more than 5, and no per-row option given"),
    ("--failed-csv", "plain", ["--failed-csv", "f.csv"], "rows", "--failed-csv asks for per-row"),
    ("--concurrency", "plain", ["--concurrency", "2"], "rows", "--concurrency asks for per-row"),
    ("--no-update", "plain", ["--no-update"], "rows", "--no-update asks for per-row results"),
    ("custom field", "cf", [], "rows", "sets the custom field 'segment', which a file import"),
    ("tag sets", "sets", [], "rows", "more than 32 distinct sets of tags"),
]


class TestAutoChoice:
    @pytest.mark.parametrize(
        ("name", "kind", "extra", "strategy", "reason"), AUTO_CASES, ids=[c[0] for c in AUTO_CASES]
    )
    def test_auto_says_which_strategy_it_chose_and_why(
        self,
        serve: Serve,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        name: str,
        kind: str,
        extra: list[str],
        strategy: str,
        reason: str,
    ) -> None:
        """auto takes file above the threshold unless a per-row option, cf: columns or too many tag sets need rows."""
        if name != "small":
            monkeypatch.setattr(_strategy, "AUTO_FILE_ABOVE_ROWS", 5)
        if kind == "cf":
            source = write_csv(tmp_path / "c.csv", [row(i) for i in range(6)])
        elif kind == "sets":
            source = write_csv(
                tmp_path / "c.csv", [[*row(i)[:6], f"t{i}"] for i in range(40)], PLAIN_HEADER
            )
        else:
            source = write_csv(tmp_path / "c.csv", plain_rows(6), PLAIN_HEADER)
        with serve() as (emulator, url):
            if kind == "cf":
                api(url, lambda c: c.custom_fields.create(name="segment", object="lead"))
            code, out, err = cli(
                capsys,
                "import-leads",
                str(source),
                "--list",
                "L",
                "--create-list",
                "--dry-run",
                "--json",
                *extra,
            )
            report = report_of(out)
            assert code == 0 and report["strategy"] == strategy, err + out
            assert reason in report["strategy_reason"]
            assert emulator.state.lists == {}

    def test_auto_keeps_rows_when_a_per_row_checkpoint_exists(
        self,
        serve: Serve,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """An earlier per-row run's checkpoint makes auto choose rows, which asks for --resume or --restart."""
        monkeypatch.setattr(_strategy, "AUTO_FILE_ABOVE_ROWS", 5)
        source = write_csv(tmp_path / "c.csv", plain_rows(6), PLAIN_HEADER)
        with serve() as (_emulator, _url):
            assert (
                cli(
                    capsys,
                    *FAST,
                    "import-leads",
                    str(source),
                    "--list",
                    "L",
                    "--create-list",
                    "--strategy",
                    "rows",
                )[0]
                == 0
            )
            code, _out, err = cli(capsys, "import-leads", str(source), "--list", "L")
        assert code == 2 and "pass --resume" in err and len(err.splitlines()) == 1

    def test_auto_runs_a_large_file_server_side(
        self,
        serve: Serve,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Above the threshold, a plain run prints the choice and imports by file: a handful of requests, no upserts."""
        monkeypatch.setattr(_strategy, "AUTO_FILE_ABOVE_ROWS", 5)
        source = write_csv(tmp_path / "c.csv", plain_rows(40), PLAIN_HEADER)
        with serve() as (emulator, _url):
            code, out, err = cli(
                capsys,
                *FAST,
                "import-leads",
                str(source),
                "--list",
                "Big",
                "--create-list",
                "--json",
                *QUICK_IDLE,
            )
            report = report_of(out)
            assert code == 0, err
            assert "strategy: file (auto: 40 rows, more than 5" in err
            assert (report["added"], report["outcome"], report["not_added"]) == (40, "complete", 0)
            assert (
                operations(emulator, "upsertLead") == 0 and operations(emulator, "uploadCsv") == 1
            )
            assert len(emulator.state.leads) == 40


class TestFileStrategy:
    def test_reports_what_is_observable_and_exits_1_when_rows_are_not_seen(
        self, serve: Serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Left-out rows (by line), rows not seen joining the list (a repeat, one already in it), per-row tags and --tag."""
        rows = [
            *plain_rows(5, "vip"),
            ["Bad", "row"],
            plain_rows(1, "vip")[0],
            *plain_rows(7, "q4")[5:],
        ]
        source = write_csv(tmp_path / "c.csv", rows, PLAIN_HEADER)
        with serve() as (emulator, url):
            target = api(url, lambda c: c.lists.create(name="Mixed"))
            api(
                url,
                lambda c: c.leads.upsert(
                    lead={"work_email": "p6@co6.example"}, list_uuid=target.uuid
                ),
            )
            code, out, err = cli(
                capsys,
                *FAST,
                "import-leads",
                str(source),
                "--list",
                "Mixed",
                "--strategy",
                "file",
                "--tag",
                "Imported",
                "--json",
                *QUICK_IDLE,
            )
            report = report_of(out)
            assert code == 1, err
            assert (report["rows"], report["uploaded"], report["left_out"], report["tag_sets"]) == (
                9,
                8,
                1,
                2,
            )
            assert (report["added"], report["not_added"], report["outcome"]) == (6, 2, "stalled")
            assert report["left_out_rows"] == [
                {"line": 7, "error": "malformed row: 2 columns, header has 7"}
            ]
            assert "per-row outcomes are not available" in report["note"]
            names = {t["uuid"]: t["name"] for t in emulator.state.tags.values()}
            by_email = {
                lead["work_email"]: {names[t] for t in lead["tags"]}
                for lead in emulator.state.leads.values()
            }
            assert by_email["p0@co0.example"] == {"vip", "Imported"}
            assert by_email["p5@co5.example"] == {"q4", "Imported"}
            assert len(emulator.state.leads) == 7

    def test_text_report_and_exit_0_when_every_row_joins(
        self, serve: Serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Every row seen joining the list: exit 0; the text report shows the counts and the note."""
        source = write_csv(tmp_path / "c.csv", plain_rows(3), PLAIN_HEADER)
        with serve() as (_emulator, _url):
            code, out, err = cli(
                capsys,
                *FAST,
                "import-leads",
                str(source),
                "--list",
                "T",
                "--create-list",
                "--strategy",
                "file",
            )
        assert code == 0, err
        assert (
            "outcome: complete" in out
            and "added: 3" in out
            and "per-row outcomes are not available" in out
        )
        assert (
            "strategy: file (--strategy file)" in err
            and "'LinkedIn URL' -> linkedin_id (alias)" in err
        )

    def test_dry_run_shows_the_plan_and_writes_nothing(
        self, serve: Serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--dry-run prints the strategy, the upload mapping, the tag sets and the tags to create; nothing is sent."""
        source = write_csv(
            tmp_path / "c.csv", [*plain_rows(4, "x;y"), ["", "", "", "", "", "", "x"]], PLAIN_HEADER
        )
        with serve() as (emulator, _url):
            code, out, err = cli(
                capsys,
                "import-leads",
                str(source),
                "--list",
                "D",
                "--create-list",
                "--strategy",
                "file",
                "--dry-run",
            )
            assert code == 1, err  # the row without an identifier would be left out
            assert out.startswith("strategy: file (--strategy file)")
            assert "'x' + 'y': 4 rows" in out and "tags that would be created: x, y" in out
            assert "4 would be uploaded, 1 left out" in out and "line 6: no identifier" in out
            assert writes(emulator) == [] and emulator.state.uploads == {}

    def test_an_ambiguous_start_is_not_resent_and_exits_3(
        self, serve: Serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The first start commits but its answer is lost: exit 3, one start sent, later tag sets not started."""
        rows = plain_rows(2, "a") + plain_rows(4, "b")[2:]
        source = write_csv(tmp_path / "c.csv", rows, PLAIN_HEADER)
        with serve() as (emulator, _url):
            emulator.inject_fault("importLeadsFromFile", "fail_after_commit")
            code, out, err = cli(
                capsys,
                *FAST,
                "import-leads",
                str(source),
                "--list",
                "A",
                "--create-list",
                "--strategy",
                "file",
                "--json",
                *QUICK_IDLE,
            )
            report = report_of(out)
            assert code == 3, err
            assert (
                "upload 1 may have started as well" in report["error"]
                and report["not_started"] == 4
            )
            assert (
                operations(emulator, "importLeadsFromFile") == 1
                and operations(emulator, "uploadCsv") == 1
            )

    def test_a_refused_later_upload_stops_the_rest_and_exits_1(
        self, serve: Serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The second tag set's upload is refused (too large): the first keeps importing, exit 1, counts printed."""
        rows = plain_rows(1, "small") + [
            [*r[:3], "x" * 200, *r[4:6], "big"] for r in plain_rows(30)[1:]
        ]
        source = write_csv(tmp_path / "c.csv", rows, PLAIN_HEADER)
        with serve(BulkConfig(rows_per_second=1e7, max_upload_bytes=2_000)) as (emulator, _url):
            code, out, err = cli(
                capsys,
                *FAST,
                "import-leads",
                str(source),
                "--list",
                "R",
                "--create-list",
                "--strategy",
                "file",
                "--json",
            )
            report = json.loads(out)  # exit 1 with an error: the first upload goes on
            assert code == 1, err
            assert (report["started"], report["not_started"]) == (1, 29)
            assert "import stopped at upload 2 of 2" in err.splitlines()[-1]
            assert operations(emulator, "importLeadsFromFile") == 1


class TestSameAsRows:
    def test_file_imports_the_demo_sample_like_rows(
        self, serve: Serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """examples/contacts.csv (repeats, blacklisted, malformed rows) by file and by rows: the same contacts, lists and tags.

        Rows run one at a time (--concurrency 1) so that, of two rows of one contact, the later
        line is the one applied last, as a file import applies them.
        """
        states = {}
        per_row = ["--concurrency", "1", "--checkpoint", str(tmp_path / "cp")]
        per_row += ["--failed-csv", str(tmp_path / "failed.csv")]
        for strategy, extra in (("rows", per_row), ("file", QUICK_IDLE)):
            with serve() as (emulator, url):
                api(url, _blacklist_like_the_demo)
                code, out, err = cli(
                    capsys,
                    *FAST,
                    "import-leads",
                    str(DEMO_SAMPLE),
                    "--list",
                    "Demo",
                    "--create-list",
                    "--strategy",
                    strategy,
                    "--tag",
                    "imported",
                    "--json",
                    *NO_CF,
                    *extra,
                )
                assert code == 1, err  # malformed and blacklisted rows
                states[strategy] = (_essence(emulator), report_of(out))
        (rows_state, rows_report), (file_state, file_report) = states["rows"], states["file"]
        assert rows_state == file_state and len(rows_state) == 1_950
        assert (rows_report["created"], file_report["added"]) == (1_950, 1_950)
        assert (rows_report["invalid"], file_report["left_out"]) == (30, 30)
        assert file_report["not_added"] == 80 + 40  # repeats and blacklisted rows


async def _blacklist_like_the_demo(client: Any) -> None:
    await client.blacklist.add_company(domain=BLOCKED_DOMAIN, name="Blocked Corp")
    for n in range(0, 40, 2):
        await client.blacklist.add_lead(linkedin=f"{BLOCKED_LINKEDIN_PREFIX}{n}")


def _essence(emulator: GetSalesEmulator) -> set[tuple[Any, ...]]:
    """Every contact without its uuid and timestamps: fields, list name and tag names."""
    state = emulator.state
    tags = {t["uuid"]: t["name"] for t in state.tags.values()}
    lists = {lst["uuid"]: lst["name"] for lst in state.lists.values()}
    fields = (
        "name",
        "first_name",
        "last_name",
        "company_name",
        "position",
        "work_email",
        "linkedin",
    )
    return {
        (
            *(lead.get(f) for f in fields),
            lists.get(lead.get("list_uuid") or ""),
            frozenset(tags[t] for t in lead.get("tags") or []),
        )
        for lead in state.leads.values()
    }


def _csv(directory: Path, rows: list[list[str]], header: list[str] = PLAIN_HEADER) -> str:
    return str(write_csv(directory / "c.csv", rows, header))


STRATEGY_MISTAKES: list[tuple[str, Callable[[Path], list[str]], str]] = [
    (
        "file with --resume",
        lambda d: [_csv(d, plain_rows(2)), "--strategy", "file", "--resume"],
        "--resume needs per-row results, which --strategy file cannot give",
    ),
    (
        "file with --failed-csv",
        lambda d: [_csv(d, plain_rows(2)), "--strategy", "file", "--failed-csv", "f.csv"],
        "--failed-csv needs per-row results",
    ),
    (
        "file with --move-to-list",
        lambda d: [_csv(d, plain_rows(2)), "--strategy", "file", "--move-to-list"],
        "drop it, or pass --strategy rows",
    ),
    (
        "rows with --idle-timeout",
        lambda d: [_csv(d, plain_rows(2)), "--strategy", "rows", "--idle-timeout", "5"],
        "--idle-timeout applies to --strategy file only",
    ),
    (
        "unknown strategy",
        lambda d: [_csv(d, plain_rows(2)), "--strategy", "bulk"],
        "invalid choice: 'bulk'",
    ),
    (
        "--wait-timeout 0",
        lambda d: [_csv(d, plain_rows(2)), "--wait-timeout", "0"],
        "must be above 0",
    ),
    (
        "file with a custom field column",
        lambda d: [_csv(d, [row(0)], list(HEADER)), "--strategy", "file"],
        '--map "cf:segment="',
    ),
    (
        "file without an identifier column",
        lambda d: [_csv(d, [["Ann", "Acme"]], ["name", "company"]), "--strategy", "file"],
        "a file import needs a linkedin_id, work_email or personal_email column",
    ),
    (
        "file with email and work_email",
        lambda d: [
            _csv(d, [["a@x.example", "b@x.example"]], ["email", "work_email"]),
            "--strategy",
            "file",
        ],
        "both become work_email",
    ),
    (
        "file with too many tag sets",
        lambda d: [
            _csv(d, [[*row(i)[:6], f"t{i}"] for i in range(33)]),
            "--strategy",
            "file",
        ],
        'leave the tags column out with --map "tags="',
    ),
    (
        "file with no row to send",
        lambda d: [_csv(d, [["x", "y"]]), "--strategy", "file"],
        "can be sent (1 left out)",
    ),
    (
        "file into an unknown list",
        lambda d: [_csv(d, plain_rows(2)), "--strategy", "file", "--list", "Typo"],
        "no list 'Typo'",
    ),
]


class TestStrategyMistakes:
    @pytest.mark.parametrize(
        ("name", "argv", "needle"), STRATEGY_MISTAKES, ids=[m[0] for m in STRATEGY_MISTAKES]
    )
    def test_each_mistake_is_one_line_exit_2_and_writes_nothing(
        self,
        serve: Serve,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        name: str,
        argv: Callable[[Path], list[str]],
        needle: str,
    ) -> None:
        """A strategy mistake is one line on stderr, exit 2, and nothing is written or uploaded."""
        with serve() as (emulator, url):
            api(url, lambda c: c.lists.create(name="L"))
            before = writes(emulator)
            args = argv(tmp_path)
            listed = [] if "--list" in args else ["--list", "L"]
            code, out, err = cli(capsys, "import-leads", *args, *listed)
            assert (code, out) == (2, ""), err
            assert len(err.splitlines()) == 1 and err.startswith("getsales: error: "), err
            assert needle in err, err
            assert writes(emulator) == before and emulator.state.uploads == {}
