"""Stable identities of import rows: by what a row says, not where it stands.

- The **row identity** is a digest of the row's normalised content (the contact fields and custom
  fields it sends; keys sorted, values trimmed, tags as a sorted set), so a row keeps its identity
  when rows are inserted above it, and an edited row gets a new one. The n-th repeat of identical
  content in one input gets its own identity (``<digest>.<n>``), so duplicates are each accounted.
  A row that cannot be sent (a malformed line) is identified by its raw cells.
- The **contact key** names the contact a row is about (its first identifier by upsert priority,
  else name + company), so an edited row can be told from a new one in the summary.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from ._fingerprints import CompactSet
from ._import_types import IDENTIFIERS, LeadRow

__all__ = ["RowIdentities", "contact_key", "content_digest"]

_DIGEST_HEX = 32  # 128 bits: collisions are out of reach for any input size
_LINKEDIN_PREFIX = re.compile(r"^(https?://)?(www\.)?linkedin\.com/in/")


def _normal(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted({str(v).strip() for v in value if str(v).strip()})
    if isinstance(value, Mapping):
        return {str(k).strip(): _normal(v) for k, v in value.items()}
    return str(value).strip() if value is not None else ""


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:_DIGEST_HEX]


def content_digest(row: LeadRow) -> str:
    """The digest of a row's normalised content (without its repeat number)."""
    if row.problem is not None:
        return _digest({"raw": _normal(row.source or {}), "lead": _normal(row.lead)})
    lead = {k: _normal(v) for k, v in row.lead.items() if _normal(v) not in ("", [])}
    custom = {k: _normal(v) for k, v in (row.custom_fields or {}).items() if _normal(v) != ""}
    return _digest({"lead": lead, "custom_fields": custom})


def contact_key(lead: Mapping[str, Any]) -> str | None:
    """A digest naming the contact a row is about, or ``None`` when it has no identifier."""
    for name in IDENTIFIERS:
        value = str(lead.get(name) or "").strip().casefold().rstrip("/")
        if value:
            kind = "email" if name.endswith("email") else name
            if name in ("linkedin", "linkedin_id"):
                kind, value = "linkedin", _LINKEDIN_PREFIX.sub("", value)
            return _digest([kind, value])[:16]
    person = (
        str(lead.get("name") or "").strip()
        or " ".join(str(lead.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    )
    company = str(lead.get("company_name") or "").strip()
    if person and company:
        return _digest(["person", person.casefold(), company.casefold()])[:16]
    return None


class RowIdentities:
    """Gives each row of one input its identity, numbering repeats of identical content.

    Memory: a 64-bit fingerprint per distinct content (``_fingerprints.py``: 10 to 20 bytes per
    row), plus a count per content that repeats. A fingerprint shared by two different contents
    (odds in ``_fingerprints.py``) only gives the later one a repeat number: its identity is still
    its own, and stable across runs.
    """

    def __init__(self) -> None:
        self._seen = CompactSet()
        self._repeats: dict[str, int] = {}

    def identify(self, row: LeadRow) -> tuple[str, str | None]:
        """``(row identity, contact key)`` of the next row of the input."""
        digest = content_digest(row)
        repeat = 1
        if not self._seen.add(digest):
            repeat = self._repeats.get(digest, 1) + 1
            self._repeats[digest] = repeat
        row_id = digest if repeat == 1 else f"{digest}.{repeat}"
        return row_id, None if row.problem is not None else contact_key(row.lead)
