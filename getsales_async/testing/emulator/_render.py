"""Template variables: ``{{first_name}}``, ``{{lead.company_name}}``, ``{{sender.first_name}}``.

A variable names a contact field (bare, or after ``lead.`` / ``contact.``) or a sender profile
field (after ``sender.`` / ``sender_profile.``). Unknown variables render empty and are reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_TEXT", "render"]

MAX_TEXT = 100_000  # characters of template text the emulator renders at most
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]{0,100})\s*\}\}")
_LEAD_PREFIXES = ("lead.", "contact.")
_SENDER_PREFIXES = ("sender.", "sender_profile.")


def render(
    template: str, lead: Mapping[str, Any] | None, sender: Mapping[str, Any] | None
) -> tuple[str, list[str]]:
    """The text with variables replaced, and the variables that had no value."""
    missing: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        source: Mapping[str, Any] | None = lead
        for prefix in _LEAD_PREFIXES:
            name = name.removeprefix(prefix)
        for prefix in _SENDER_PREFIXES:
            if match.group(1).startswith(prefix):
                source, name = sender, match.group(1).removeprefix(prefix)
        found = None if source is None else source.get(name)
        if found is None or isinstance(found, dict | list):
            missing.append(match.group(1))
            return ""
        return str(found)

    return _VARIABLE.sub(value, template[:MAX_TEXT]), missing
