"""Compact sets and maps of strings (``getsales_async._fingerprints``)."""

from __future__ import annotations

import tracemalloc

import pytest

from getsales_async._fingerprints import CompactMap, CompactSet, fingerprint

MANY = 20_000  # past several doublings of the 1,024-slot start


class TestCompactSet:
    def test_members_are_kept_across_growth(self) -> None:
        """Every added string stays a member after the table has grown many times."""
        members = CompactSet()
        added = [members.add(f"row-{i}") for i in range(MANY)]
        assert all(added) and len(members) == MANY
        assert all(f"row-{i}" in members for i in range(MANY))
        assert not any(f"other-{i}" in members for i in range(MANY))

    def test_adding_a_member_again_reports_it(self) -> None:
        """A second ``add`` of the same string returns False and does not count it twice."""
        members = CompactSet(("a", "b"))
        assert members.add("a") is False and len(members) == 2

    def test_non_strings_are_not_members(self) -> None:
        """``None`` and other non-strings are never members (no exception)."""
        assert None not in CompactSet(("None",)) and 1 not in CompactSet(("1",))

    @pytest.mark.parametrize("bits", [64, 128])
    def test_both_widths_hold_the_empty_and_odd_strings(self, bits: int) -> None:
        """The empty string and surrogates are members like any other string."""
        odd = ["", "\udcff", "é" * 300]
        members = CompactSet(tuple(odd), bits=bits)
        assert all(item in members for item in odd) and len(members) == 3

    def test_an_unsupported_width_is_refused(self) -> None:
        """Only 64- and 128-bit fingerprints exist."""
        with pytest.raises(ValueError, match="64 or 128"):
            CompactSet(bits=32)

    def test_memory_per_member_is_a_few_words(self) -> None:
        """A 64-bit set costs at most 20 bytes per member (a dict of strings costs over 100)."""
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            members = CompactSet()
            for i in range(MANY):
                members.add(f"{i:032x}")
            used = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert used / MANY <= 20


class TestCompactMap:
    def test_values_survive_growth_and_overwrite(self) -> None:
        """Each key keeps its latest value across growth; absent keys give None."""
        values = CompactMap()
        for i in range(MANY):
            values[f"id-{i}"] = i
        values["id-7"] = 70
        assert len(values) == MANY
        assert values.get("id-7") == 70 and values.get("id-19999") == 19_999
        assert values.get("missing") is None and "id-3" in values and "missing" not in values

    def test_zero_is_a_value_not_an_absence(self) -> None:
        """A stored 0 is returned as 0, not taken for a missing key."""
        values = CompactMap()
        values["x"] = 0
        assert values.get("x") == 0 and "x" in values


class TestFingerprint:
    def test_fingerprints_are_stable_and_never_zero(self) -> None:
        """The same text gives the same fingerprint in every process; 0 is reserved."""
        assert fingerprint("abc") == fingerprint("abc") != fingerprint("abd")
        assert fingerprint("abc", 128) >= 1 and fingerprint("abc", 128).bit_length() <= 128
        assert fingerprint("abc") == 0x5995D533D814BBD8  # BLAKE2b-64 of b"abc", little-endian
