"""Which operations the emulator implements, and which of those only read."""

from __future__ import annotations

from collections.abc import Callable

from . import _companies, _crm, _files, _leads, _mass_actions
from ._http import Call, Reply

__all__ = ["HANDLERS", "IMPLEMENTED_OPERATIONS", "READ_POSTS"]


def _after_background_work(handler: Callable[[Call], Reply]) -> Callable[[Call], Reply]:
    """Run the batches of background work that are due before the operation reads or writes."""

    def run(call: Call) -> Reply:
        call.state.background.run_due()
        return handler(call)

    run.__name__ = run.__qualname__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    name: _after_background_work(handler)
    for name, handler in {
        **_crm.HANDLERS,
        **_leads.HANDLERS,
        **_companies.HANDLERS,
        **_files.HANDLERS,
        **_mass_actions.HANDLERS,
    }.items()
}

IMPLEMENTED_OPERATIONS: frozenset[str] = frozenset(HANDLERS)
"""The operationIds the emulator implements; every other operation of the spec answers 404."""

READ_POSTS: frozenset[str] = frozenset(
    {"searchLeads", "countLeads", "lookupOneLead", "listCompanies", "lookupCompany"}
)
"""POST operations that only read (empty-body faults may hit them, fail-after-commit does not)."""
