"""Compact sets and maps of strings, for what an import job remembers about every row.

An import job remembers a little about each row it has seen: its identity (to number repeats of
identical content), the contacts it created, and on resume every earlier row's latest status.
With Python's ``set`` and ``dict`` of strings that costs about 100 to 200 bytes per row, so a job's
memory grew with its input (100,000 rows: +24 MiB). These containers keep a fixed-width
fingerprint of each string (its BLAKE2b digest) in flat ``array`` tables with open addressing
(linear probing, load kept at most 4/5): 10 to 20 bytes per member for a 64-bit set, 30 to 60 for
a 128-bit map with values. Hand-rolled because the standard library has no such container and a
compiled dependency (pyroaring's 64-bit maps, numpy) is not worth it for about 100 lines.

Fingerprints are not the strings: two strings can share one. With 64 bits the chance that any
two of n members do is about n² / 2⁶⁵ (10 million rows: 3 in a million), so a 64-bit set is used
only where a collision would misreport a count; a 128-bit map (collisions out of reach) is used
where one could skip a row.
"""

from __future__ import annotations

import hashlib
from array import array

__all__ = ["CompactMap", "CompactSet", "fingerprint"]

_INITIAL_SLOTS = 1024
_WORD = 64
_WORD_MASK = (1 << _WORD) - 1


def fingerprint(text: str, bits: int = 64) -> int:
    """The ``bits``-bit fingerprint of ``text`` (never 0: 0 marks an empty slot)."""
    raw = text.encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(raw, digest_size=bits // 8).digest()
    return int.from_bytes(digest, "little") or 1


class _Table:
    """Open addressing over ``array('Q')`` words: one word per slot for 64-bit keys, two for
    128-bit keys (low word first)."""

    __slots__ = ("_bits", "_count", "_hi", "_lo", "_mask")

    def __init__(self, bits: int) -> None:
        if bits not in (64, 128):
            raise ValueError(f"bits must be 64 or 128, not {bits!r}")
        self._bits = bits
        self._count = 0
        self._lo = array("Q", bytes(8 * _INITIAL_SLOTS))
        self._hi = array("Q", bytes(8 * _INITIAL_SLOTS)) if bits == 128 else None
        self._mask = _INITIAL_SLOTS - 1

    def __len__(self) -> int:
        return self._count

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and self._find(fingerprint(item, self._bits))[1]

    def _find(self, key: int) -> tuple[int, bool]:
        """``(slot, found)``: the slot holding ``key``, or the empty slot where it would go."""
        lo, hi = key & _WORD_MASK, key >> _WORD
        los, his, mask = self._lo, self._hi, self._mask
        slot = lo & mask
        while True:
            here = los[slot]
            if his is None:
                if here == lo:
                    return slot, True
                if here == 0:
                    return slot, False
            else:
                there = his[slot]
                if here == lo and there == hi:
                    return slot, True
                if here == 0 and there == 0:
                    return slot, False
            slot = (slot + 1) & mask

    def _claim(self, slot: int, key: int) -> None:
        self._lo[slot] = key & _WORD_MASK
        if self._hi is not None:
            self._hi[slot] = key >> _WORD
        self._count += 1

    def _make_room(self) -> None:
        """Double the table when one more member would pass a load of 4/5 (members are moved
        slot by slot from the old arrays, with no list of them in between)."""
        if 5 * (self._count + 1) <= 4 * (self._mask + 1):
            return
        slots = 2 * (self._mask + 1)
        old_lo, old_hi, old_values = self._lo, self._hi, self._swap_values(slots)
        self._lo = array("Q", bytes(8 * slots))
        self._hi = array("Q", bytes(8 * slots)) if old_hi is not None else None
        self._mask = slots - 1
        self._count = 0
        for old_slot, lo in enumerate(old_lo):
            hi = old_hi[old_slot] if old_hi is not None else 0
            if lo or hi:
                key = (hi << _WORD) | lo
                slot, _found = self._find(key)
                self._claim(slot, key)
                if old_values is not None:
                    self._store_value(slot, old_values[old_slot])

    def _swap_values(self, slots: int) -> array[int] | None:
        """Start a value array of ``slots`` and return the old one (``None``: a set)."""
        return None

    def _store_value(self, slot: int, value: int) -> None:
        return None


class CompactSet(_Table):
    """A set of strings kept as fingerprints (64-bit by default; see the module docstring)."""

    __slots__ = ()

    def __init__(self, items: tuple[str, ...] = (), *, bits: int = 64) -> None:
        super().__init__(bits)
        for item in items:
            self.add(item)

    def add(self, item: str) -> bool:
        """Add ``item``; ``True`` when it was not a member before."""
        key = fingerprint(item, self._bits)
        slot, found = self._find(key)
        if found:
            return False
        self._make_room()
        slot, _found = self._find(key)
        self._claim(slot, key)
        return True


class CompactMap(_Table):
    """A map from strings (as 128-bit fingerprints by default) to non-negative ints below 2⁶³."""

    __slots__ = ("_values",)

    def __init__(self, *, bits: int = 128) -> None:
        super().__init__(bits)
        self._values = array("q", bytes(8 * _INITIAL_SLOTS))

    def get(self, item: str) -> int | None:
        """The value of ``item``, or ``None`` when it is not a member."""
        slot, found = self._find(fingerprint(item, self._bits))
        return self._values[slot] if found else None

    def __setitem__(self, item: str, value: int) -> None:
        key = fingerprint(item, self._bits)
        slot, found = self._find(key)
        if not found:
            self._make_room()
            slot, _found = self._find(key)
            self._claim(slot, key)
        self._values[slot] = value

    def _swap_values(self, slots: int) -> array[int] | None:
        old, self._values = self._values, array("q", bytes(8 * slots))
        return old

    def _store_value(self, slot: int, value: int) -> None:
        self._values[slot] = value
