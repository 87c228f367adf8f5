"""Which operations the emulator implements, and which of those only read."""

from __future__ import annotations

from collections.abc import Callable

from . import _companies, _crm, _leads
from ._http import Call, Reply

__all__ = ["HANDLERS", "IMPLEMENTED_OPERATIONS", "READ_POSTS"]

HANDLERS: dict[str, Callable[[Call], Reply]] = {
    **_crm.HANDLERS,
    **_leads.HANDLERS,
    **_companies.HANDLERS,
}

IMPLEMENTED_OPERATIONS: frozenset[str] = frozenset(HANDLERS)
"""The operationIds the emulator implements; every other operation of the spec answers 404."""

READ_POSTS: frozenset[str] = frozenset(
    {"searchLeads", "countLeads", "lookupOneLead", "listCompanies", "lookupCompany"}
)
"""POST operations that only read (empty-body faults may hit them, fail-after-commit does not)."""
