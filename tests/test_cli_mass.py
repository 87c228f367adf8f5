"""`getsales tag` / `untag` / `move` / `delete` against the emulator served on loopback."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from getsales_async.testing import BulkConfig, GetSalesEmulator
from getsales_async.testing.emulator import serve_in_thread

from .test_cli import FAST, api, cli, report_of, writes

Serve = Callable[..., contextlib.AbstractContextManager[tuple[GetSalesEmulator, str]]]
MASS = "massActionLeads"


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Serve:
    """Serve a fresh emulator with 6 contacts in list 'Six' and the tag 'vip' (bulk settings given)."""

    @contextlib.contextmanager
    def start(
        queue_above: int = 1_000, rows_per_second: float = 1e7
    ) -> Iterator[tuple[GetSalesEmulator, str]]:
        key = f"mass-{uuid.uuid4().hex}"
        emulator = GetSalesEmulator(
            api_keys={key: 1},
            quota=None,
            bulk=BulkConfig(rows_per_second=rows_per_second, queue_above=queue_above),
        )
        with serve_in_thread(emulator.app) as url:
            monkeypatch.setenv("GETSALES_API_KEY", key)
            monkeypatch.setenv("GETSALES_BASE_URL", url)
            monkeypatch.delenv("GETSALES_REDIS_URL", raising=False)
            six = api(url, lambda c: c.lists.create(name="Six"))
            emulator.seed_leads(6, list_uuid=str(six.uuid))
            api(url, lambda c: c.tags.create(name="vip"))
            yield emulator, url

    return start


def tag_names(emulator: GetSalesEmulator) -> dict[str, set[str]]:
    """Contact uuid -> its tag names."""
    names = {t["uuid"]: t["name"] for t in emulator.state.tags.values()}
    return {
        u: {names[t] for t in lead.get("tags") or []} for u, lead in emulator.state.leads.items()
    }


def mass_requests(emulator: GetSalesEmulator) -> int:
    return sum(1 for r in emulator.requests if r.operation_id == MASS)


class TestMassCommands:
    def test_tag_untag_move_and_delete_over_a_list_a_filter_and_uuids(
        self, serve: Serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Each command acts on exactly its selection, reports what it did, and --dry-run changes nothing."""
        with serve() as (emulator, _url):
            everyone = sorted(emulator.state.leads)
            some = tmp_path / "some.txt"
            some.write_text(f"{everyone[0]}\n\n{everyone[1].upper()}\n{everyone[0]}\n", "utf-8")
            code, out, err = cli(capsys, *FAST, "tag", "vip", "q4", "--list", "Six", "--dry-run")
            assert code == 2 and "no tag 'q4'" in err and "--create-tags" in err
            code, out, err = cli(
                capsys, *FAST, "tag", "vip", "q4", "--list", "Six", "--create-tags", "--dry-run"
            )
            assert code == 0 and "would be created first: tag 'q4'" in out, err
            assert emulator.state.mass_actions == {} and len(emulator.state.tags) == 1
            code, out, err = cli(
                capsys, *FAST, "tag", "vip", "q4", "--list", "Six", "--create-tags", "--json"
            )
            report = report_of(out)
            assert code == 0 and (report["selected"], report["requests"]) == (6, 1), err
            assert all(t == {"vip", "q4"} for t in tag_names(emulator).values())
            code, out, err = cli(capsys, *FAST, "untag", "q4", "--uuids", str(some))
            assert code == 0 and "remove tags 'q4' from 2 contacts (2 uuids from" in out, err
            assert sum(1 for t in tag_names(emulator).values() if t == {"vip"}) == 2
            code, out, err = cli(
                capsys, *FAST, "move", "--to", "Later", "--create-list", "--uuids", str(some)
            )
            assert code == 0 and "to list 'Later': done" in out, err
            later = next(u for u, lst in emulator.state.lists.items() if lst["name"] == "Later")
            assert {
                u for u, lead in emulator.state.leads.items() if lead["list_uuid"] == later
            } == set(everyone[:2])
            code, out, err = cli(
                capsys, *FAST, "delete", "--filter", '{"tags": "q4"}', "--list", "Six", "--yes"
            )
            assert code == 0 and "delete 4 contacts" in out, err
            assert sorted(emulator.state.leads) == everyone[:2]
            code, out, _err = cli(capsys, *FAST, "delete", "--list", "Six", "--yes")
            assert code == 0 and "nothing to do, nothing sent" in out
            assert mass_requests(emulator) == 4

    def test_a_queued_action_prints_its_tracking_object(
        self, serve: Serve, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A set the server queues: exit 0, the tracking uuid and status printed (and in --json)."""
        with serve(queue_above=3, rows_per_second=0.01) as (emulator, _url):
            code, out, err = cli(capsys, *FAST, "tag", "vip", "--filter", '{"all": true}', "--json")
            report = report_of(out)
            assert code == 0 and report["queued"] is True, err
            [tracking] = report["tracking"]
            assert tracking["uuid"] in emulator.state.mass_actions and tracking["status"] in (
                "queued",
                "in_progress",
            )
            code, out, _err = cli(capsys, *FAST, "untag", "vip", "--list", "Six")
            assert code == 0 and "queued by the server" in out and "tracking: " in out

    def test_an_ambiguous_failure_is_not_resent_and_exits_3(
        self, serve: Serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The action commits but its answer is lost: one request, exit 3, the uuids that may be done saved."""
        with serve() as (emulator, _url):
            uuids = sorted(emulator.state.leads)[:3]
            source = tmp_path / "export.csv"
            source.write_text("name,uuid\n" + "".join(f"x,{u}\n" for u in uuids), "utf-8")
            emulator.inject_fault(MASS, "fail_after_commit")
            code, out, err = cli(capsys, *FAST, "tag", "vip", "--uuids", str(source), "--json")
            assert code == 3 and report_of(out)["maybe_done"] == 3, err
            assert "may have run, so it was not re-sent" in err.splitlines()[-1]
            assert mass_requests(emulator) == 1
            maybe = tmp_path / "export.csv.maybe-done"
            assert maybe.read_text("utf-8").split() == uuids
            assert not (tmp_path / "export.csv.not-sent").exists()


def _uuids_file(directory: Path, text: str) -> str:
    path = directory / "uuids.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


MASS_MISTAKES: list[tuple[str, Callable[[Path], list[str]], int, str]] = [
    ("no selection", lambda d: ["tag", "vip"], 2, "say which contacts: --list NAME"),
    ("no tag", lambda d: ["tag", "--list", "Six"], 2, "the following arguments are required"),
    ("unknown tag", lambda d: ["tag", "gold", "--list", "Six"], 2, "no tag 'gold'"),
    ("untag unknown tag", lambda d: ["untag", "gold", "--list", "Six"], 2, "no tag 'gold'"),
    ("unknown list", lambda d: ["tag", "vip", "--list", "Typo"], 2, "no list 'Typo'"),
    ("empty filter", lambda d: ["tag", "vip", "--filter", "{}"], 2, '{"all": true}'),
    ("filter not JSON", lambda d: ["tag", "vip", "--filter", "{q}"], 2, "--filter is not JSON"),
    (
        "list twice",
        lambda d: ["tag", "vip", "--list", "Six", "--filter", '{"list_uuid": "x"}'],
        2,
        "give the list once",
    ),
    (
        "uuids and list",
        lambda d: ["tag", "vip", "--uuids", _uuids_file(d, f"{uuid.uuid4()}\n"), "--list", "Six"],
        2,
        "drop --filter and --list",
    ),
    (
        "missing uuids file",
        lambda d: ["tag", "vip", "--uuids", str(d / "no.txt")],
        2,
        "does not exist",
    ),
    (
        "bad uuid",
        lambda d: ["tag", "vip", "--uuids", _uuids_file(d, f"{uuid.uuid4()}\nnot-a-uuid\n")],
        2,
        "line 2: 'not-a-uuid' is not a contact uuid",
    ),
    (
        "CSV without uuid column",
        lambda d: ["tag", "vip", "--uuids", _uuids_file(d, "name,email\nAnn,a@x.example\n")],
        2,
        "has no 'uuid' column",
    ),
    (
        "empty uuids file",
        lambda d: ["tag", "vip", "--uuids", _uuids_file(d, "\n\n")],
        2,
        "holds no uuids",
    ),
    (
        "--column alone",
        lambda d: ["tag", "vip", "--list", "Six", "--column", "id"],
        2,
        "add --uuids",
    ),
    (
        "move to unknown list",
        lambda d: ["move", "--to", "Typo", "--list", "Six"],
        2,
        "no list 'Typo' to move to",
    ),
    ("delete without --yes", lambda d: ["delete", "--list", "Six"], 2, "pass --yes to confirm"),
    ("wrong key", lambda d: ["tag", "vip", "--list", "Six"], 3, "refused the API key"),
]


class TestMassMistakes:
    @pytest.mark.parametrize(
        ("name", "argv", "code", "needle"), MASS_MISTAKES, ids=[m[0] for m in MASS_MISTAKES]
    )
    def test_each_mistake_is_one_line_and_changes_nothing(
        self,
        serve: Serve,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        name: str,
        argv: Callable[[Path], list[str]],
        code: int,
        needle: str,
    ) -> None:
        """A mistake gives one line on stderr, its exit code, and no write at all."""
        with serve() as (emulator, _url):
            if name == "wrong key":
                monkeypatch.setenv("GETSALES_API_KEY", "wrong-key-0123456789")
            before = writes(emulator)
            got, out, err = cli(capsys, *argv(tmp_path))
            assert (got, out) == (code, ""), err
            assert len(err.splitlines()) == 1 and err.startswith("getsales: error: "), err
            assert needle in err, err
            assert writes(emulator) == before and mass_requests(emulator) == 0
