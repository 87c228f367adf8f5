"""What the API classifier works with: a raw diff, a finding, and their small helpers.

Shared by ``codegen/api_classify.py`` (operations, parameters, bodies, responses) and
``codegen/api_schema_rules.py`` (changes inside schemas).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "Diff",
    "Finding",
    "Label",
    "Level",
    "Root",
    "Side",
    "Token",
    "model_name",
    "show",
    "verb",
]

Level = Literal["breaking", "non-breaking", "docs"]
Side = Literal["request", "response"]
Json = Any
Token = str | int
Root = Callable[[dict[str, Json]], Json]  # document -> the schema a diff path starts from
Label = Callable[[str], str]  # field path text -> subject ("client.leads.upsert(lead.name)")
DOC_KEYWORDS = {"summary", "description", "title", "example", "examples", "externalDocs", "xml"}


@dataclass(frozen=True)
class Finding:
    """One classified change, found in one operation (``operation`` None: outside any)."""

    level: Level
    subject: str  # what user code touches: "client.leads.get()", "Lead.about", "WebhookEvent"
    message: str
    operation: str | None = None


@dataclass(frozen=True)
class Diff:
    """One raw diff of the differ, with the two normalised documents it was computed from."""

    path: tuple[Token, ...]
    action: str  # add | remove | replace | rename
    before: Json
    after: Json
    old: dict[str, Json]
    new: dict[str, Json]

    @property
    def value(self) -> Json:
        return self.before if self.action == "remove" else self.after

    def docs(self) -> tuple[dict[str, Json], dict[str, Json]]:
        """Both documents, the one holding the changed node first (old for removals)."""
        return (self.old, self.new) if self.action == "remove" else (self.new, self.old)


def model_name(component: str) -> str:
    """Class name the generator gives a component schema (``webhook-event`` -> ``WebhookEvent``)."""
    words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", re.sub(r"[^A-Za-z0-9]+", " ", component))
    return "".join(w[:1].upper() + w[1:] for w in words)


def show(value: Json) -> str:
    if value is None:
        return "(none)"
    return "(schema)" if isinstance(value, dict | list) else f"`{value}`"


def verb(action: str) -> str:
    verbs = {"add": "added", "remove": "removed", "replace": "changed", "rename": "renamed"}
    return verbs.get(action, action)
