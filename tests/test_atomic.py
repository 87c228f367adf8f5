"""Files replaced whole (``_atomic.py``): old content or new, never half, no temporary left."""

from __future__ import annotations

from pathlib import Path

import pytest

from getsales_async._atomic import move_into_place, temporary_sibling, write_atomic


class TestWriteAtomic:
    def test_new_content_replaces_the_old_when_written(self, tmp_path: Path) -> None:
        """The target holds exactly the new bytes and no temporary file is left beside it."""
        target = tmp_path / "state.json"
        target.write_bytes(b"old")
        write_atomic(target, b"new")
        assert target.read_bytes() == b"new"
        assert [p.name for p in tmp_path.iterdir()] == ["state.json"]

    def test_the_target_stays_when_the_rename_fails(self, tmp_path: Path) -> None:
        """A failed replace (the target is a directory) keeps it and removes the temporary file."""
        target = tmp_path / "state.json"
        target.mkdir()
        (target / "inside").write_bytes(b"old")
        with pytest.raises(OSError):
            write_atomic(target, b"new")
        assert (target / "inside").read_bytes() == b"old"
        assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


class TestMoveIntoPlace:
    def test_a_streamed_file_appears_under_the_target_name(self, tmp_path: Path) -> None:
        """A handle written line by line on the temporary sibling becomes the target."""
        target = tmp_path / "out.csv"
        tmp = temporary_sibling(target)
        handle = tmp.open("w", encoding="utf-8")
        handle.write("a,b\r\n")
        move_into_place(handle, tmp, target)
        assert handle.closed and not tmp.exists()
        assert target.read_bytes() == b"a,b\r\n"
