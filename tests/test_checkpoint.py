"""Checkpoints: checksummed append-only records, torn-record repair, every other damage a CheckpointError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from getsales_async import CheckpointError, RowResult, RowStatus
from getsales_async._checkpoint import (
    RecordLog,
    encode_record,
    read_json_state,
    read_records,
    write_json_atomic,
)
from getsales_async._import_checkpoint import ImportCheckpoint, JobMeaning

MEANING = JobMeaning("list-1", update_if_exists=True, move_to_list=False, tags=())


def new_checkpoint(path: Path, rows: int, *, failed: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    """A checkpoint of one run with ``rows`` rows (those in ``failed`` failed)."""
    store = ImportCheckpoint.start(path, input_name="in.csv", meaning=MEANING, resume=False)
    for i in range(rows):
        status = RowStatus.FAILED if i in failed else RowStatus.CREATED
        result = RowResult(
            i, status, lead_uuid=f"lead-{i}", error="nope" if i in failed else None, line=i + 2
        )
        store.record(
            result, row_id=f"row-{i}", contact=f"contact-{i}", cells={"email": f"p{i}@x.example"}
        )
    store.close()


def resume(path: Path, **changes: object) -> ImportCheckpoint:
    options: dict[str, object] = {
        "input_name": "in.csv",
        "meaning": MEANING,
        "resume": True,
        **changes,
    }
    return ImportCheckpoint.start(path, **options)  # type: ignore[arg-type]


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


class TestRecordLog:
    def test_records_carry_a_checksum_of_their_bytes(self, tmp_path: Path) -> None:
        """Each line is '<crc32> <json>' and reads back to the same record."""
        log = RecordLog.create(tmp_path / "log", {"t": "job", "n": 1})
        log.append({"t": "row", "id": "a", "s": "created"})
        log.close()
        raw = (tmp_path / "log").read_bytes()
        assert raw.startswith(encode_record({"t": "job", "n": 1})) and raw.endswith(b"\n")
        assert [r for _, _, r in read_records(tmp_path / "log")][1] == {
            "t": "row",
            "id": "a",
            "s": "created",
        }

    def test_a_log_in_use_cannot_be_opened_twice(self, tmp_path: Path) -> None:
        """A second job on the same checkpoint is refused while the first holds it."""
        first = RecordLog.create(tmp_path / "log", {"t": "job"})
        with pytest.raises(CheckpointError, match="in use by another running job"):
            RecordLog.open_existing(tmp_path / "log", header_type="job")
        first.close()
        second = RecordLog.open_existing(tmp_path / "log", header_type="job")
        assert second is not None
        second.close()

    def test_state_files_are_replaced_whole_and_checked_on_reading(self, tmp_path: Path) -> None:
        """write_json_atomic leaves no temporary file; reading another kind or non-JSON is refused."""
        write_json_atomic(tmp_path / "s.json", {"kind": "k", "x": 1})
        assert read_json_state(tmp_path / "s.json", kind="k")["x"] == 1
        assert [p.name for p in tmp_path.iterdir()] == ["s.json"]
        with pytest.raises(CheckpointError, match="not a other checkpoint"):
            read_json_state(tmp_path / "s.json", kind="other")
        (tmp_path / "s.json").write_text("{nope")
        with pytest.raises(CheckpointError, match="not JSON"):
            read_json_state(tmp_path / "s.json", kind="k")


class TestCorruption:
    def test_a_torn_last_record_is_cut_before_appending(self, tmp_path: Path) -> None:
        """A last line cut mid-write is removed: its row is not done, every other row still is."""
        path = tmp_path / "cp"
        new_checkpoint(path, 5)
        path.write_bytes(path.read_bytes()[:-7])  # the last record loses its end
        store = resume(path)
        latest = store.state.latest
        assert store.repaired and len(latest) == 4
        assert [latest.get(f"row-{i}") for i in range(5)] == [RowStatus.CREATED] * 4 + [None]
        store.record(RowResult(4, RowStatus.CREATED), row_id="row-4", contact=None, cells=None)
        store.close()
        records = [r for _, _, r in read_records(path)]
        assert [r["id"] for r in records if r["t"] == "row"] == [f"row-{i}" for i in range(5)]

    def test_a_torn_header_starts_the_job_afresh(self, tmp_path: Path) -> None:
        """A header cut mid-write (nothing recorded yet) is repaired by writing it again."""
        path = tmp_path / "cp"
        new_checkpoint(path, 0)
        path.write_bytes(path.read_bytes()[:30])
        store = resume(path)
        assert store.repaired and len(store.state.latest) == 0
        store.close()
        assert [r["t"] for _, _, r in read_records(path)] == ["job", "run"]

    @pytest.mark.parametrize(
        ("damage", "line", "needle"),
        [
            ("garbage line", 4, "not a checkpoint record"),
            ("bad bytes", 4, "checksum mismatch"),
            ("missing key", 4, "without its status"),
            ("unknown status", 4, "unknown row status 'exploded'"),
            ("not JSON", 4, "not JSON text"),
            ("damaged last line", 7, "checksum mismatch"),
            ("unknown record type", 4, "unknown record type"),
        ],
    )
    def test_any_other_damage_names_the_file_and_line(
        self, tmp_path: Path, damage: str, line: int, needle: str
    ) -> None:
        """Garbage, bad bytes, missing keys, unknown statuses: CheckpointError with the line, nothing changed."""
        path = tmp_path / "cp"
        new_checkpoint(path, 5)
        content = lines(path)
        broken = {
            "garbage line": b"garbage\n",
            "bad bytes": content[3][:20] + b"\xff\xfe" + content[3][22:],
            "missing key": encode_record({"t": "row", "id": "row-1"}),
            "unknown status": encode_record({"t": "row", "id": "row-1", "s": "exploded"}),
            "not JSON": b"%08x {not json\n" % __import__("zlib").crc32(b"{not json"),
            "damaged last line": content[-1].replace(b"row-4", b"row-9"),
            "unknown record type": encode_record({"t": "mystery"}),
        }[damage]
        index = line - 1
        content[index] = broken
        path.write_bytes(b"".join(content))
        before = path.read_bytes()
        with pytest.raises(CheckpointError) as info:
            resume(path)
        assert (
            info.value.line == line and needle in str(info.value) and str(path) in str(info.value)
        )
        assert path.read_bytes() == before  # nothing cut or appended

    @pytest.mark.parametrize(
        ("content", "needle"),
        [
            (b"first_name,email\nAnn,a@x.example\nBob,b@x", "not a checkpoint file"),
            (b'{"job": "abc"}\n{"index": 0, "status": "created"}\n', "not a checkpoint file"),
            (
                encode_record(
                    {"t": "job", "format": "getsales-async/import-checkpoint", "version": 1}
                ),
                "another version",
            ),
            (encode_record({"t": "job", "format": "something-else"}), "not an import checkpoint"),
        ],
    )
    def test_files_that_are_not_checkpoints_are_refused_untouched(
        self, tmp_path: Path, content: bytes, needle: str
    ) -> None:
        """A CSV, an old-format file or another program's log is refused, and not truncated."""
        path = tmp_path / "cp"
        path.write_bytes(content)
        with pytest.raises(CheckpointError, match=needle):
            resume(path)
        assert path.read_bytes() == content


class TestSameJob:
    @pytest.mark.parametrize(
        ("changes", "needle"),
        [
            ({"input_name": "other.csv"}, "belongs to the import of 'in.csv'"),
            ({"meaning": JobMeaning("list-2")}, "list_uuid: 'list-1' -> 'list-2'"),
            ({"meaning": JobMeaning("list-1", update_if_exists=False)}, "update_if_exists"),
            ({"meaning": JobMeaning("list-1", move_to_list=True)}, "move_to_list"),
            ({"meaning": JobMeaning("list-1", tags=("vip",))}, "tags"),
        ],
    )
    def test_resuming_another_input_or_meaning_is_refused(
        self, tmp_path: Path, changes: dict[str, object], needle: str
    ) -> None:
        """A checkpoint only resumes the job it was written for."""
        path = tmp_path / "cp"
        new_checkpoint(path, 2)
        with pytest.raises(CheckpointError, match=needle):
            resume(path, **changes)

    def test_peek_reads_without_repairing_or_locking(self, tmp_path: Path) -> None:
        """peek() leaves a torn checkpoint as it is and ignores its torn record."""
        path = tmp_path / "cp"
        new_checkpoint(path, 3)
        torn = path.read_bytes()[:-5]
        path.write_bytes(torn)
        peeked = ImportCheckpoint.peek(path)
        assert peeked is not None and len(peeked[1].latest) == 2
        assert path.read_bytes() == torn


class TestFailedRows:
    def test_an_unfinished_run_keeps_listing_earlier_failures_it_did_not_reach(
        self, tmp_path: Path
    ) -> None:
        """Failures of earlier runs stay listed until a run replaces them or completes."""
        path = tmp_path / "cp"
        new_checkpoint(path, 4, failed={1, 3})
        store = resume(path)
        store.record(
            RowResult(1, RowStatus.FAILED, error="still", line=3),
            row_id="row-1",
            contact="contact-1",
            cells={"email": "p1@x.example"},
        )
        unfinished = store.failed_rows(completed=False, base_columns=["email"])
        values = list(store.failed_row_values(unfinished))
        assert unfinished.columns == ["import_line", "import_error", "email"]
        assert values == [[3, "still", "p1@x.example"], [5, "nope", "p3@x.example"]]
        assert [r[0] for r in store.failed_rows(completed=True).rows] == [3]
        store.close()

    def test_a_contact_imported_later_is_no_longer_failing(self, tmp_path: Path) -> None:
        """An edited row of the same contact that succeeds replaces the earlier failure."""
        path = tmp_path / "cp"
        new_checkpoint(path, 2, failed={0})
        store = resume(path)
        store.record(
            RowResult(0, RowStatus.CREATED, line=2),
            row_id="row-0-edited",
            contact="contact-0",
            cells=None,
        )
        assert store.failed_rows(completed=False).rows == []
        store.close()


def test_meanings_serialise_with_sorted_tags() -> None:
    """A job's meaning is stored with its tags sorted, so their order does not matter."""
    meaning = JobMeaning("l", tags=("b", "a"))
    assert json.dumps(meaning.as_json(), sort_keys=True) == (
        '{"list_uuid": "l", "move_to_list": false, "tags": ["a", "b"], "update_if_exists": true}'
    )
