"""``client.mass_actions``: typed helpers for every documented contact mass action.

``PUT /leads/api/leads/mass-action`` acts on the contacts a filter selects, or on a list of uuids.
Each helper takes exactly one of ``uuids=`` or ``filter=``:

- ``uuids`` are deduplicated (order kept) and sent in chunks of at most :data:`CHUNK_SIZE`
  (1,000: the API documents no limit; this keeps a request near 40 KB, and matches the 1,000-row
  batches the server documents for its background work), one request after the other;
- ``filter`` is a mass filter (``{"all": True}``, ``{"list_uuid": ...}``, any search keys,
  ``excludeIds``...), sent once. An empty filter is refused: say ``{"all": True}`` to mean
  everyone.

For large sets the server queues the action and answers with a ``mass_action`` tracking object;
:class:`MassActionResult` keeps every answer (:attr:`MassActionResult.tracking` lists the queued
ones). There is no documented endpoint to read a tracking object later.

A mass action is **never re-sent after an ambiguous failure** (a 5xx, a timeout, a lost
connection): the server may have acted, and e.g. a delete or an add-to-flow must not run twice.
Only refusals that ran nothing are retried by the client (429, connection refused). When a chunk
fails, :class:`MassActionError` says which uuids were done, which may have been, and which were
not sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._errors import ArgumentError, GetSalesError
from ._outcome import may_have_run
from ._shapes import unwrap_data

if TYPE_CHECKING:
    from ._client import AsyncGetSales

__all__ = [
    "CHUNK_SIZE",
    "MASS_ACTION_TYPES",
    "ContactMassActions",
    "MassActionAnswer",
    "MassActionError",
    "MassActionResult",
]

PATH = "/leads/api/leads/mass-action"
CHUNK_SIZE = 1_000  # uuids per request (see the module docstring)
MAX_CHUNK_SIZE = 10_000  # the largest chunk_size accepted
MASS_ACTION_TYPES = (
    "contact_add_tags",
    "contact_remove_tags",
    "contact_replace_tags",
    "contact_change_list",
    "contact_change_pipeline_stage",
    "contact_change_custom_field",
    "contact_add_to_flow",
    "contact_cancel_from_flows",
    "contact_assign_ai_agent",
    "contact_cancel_ai_agent",
    "contact_delete",
    "contact_export_csv",
)
QUEUED_STATUSES = frozenset({"queued", "pending", "new", "waiting", "in_progress", "processing"})
Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class MassActionAnswer:
    """The server's answer to one mass-action request."""

    queued: bool
    """The server queued the action (a tracking object with a not-yet-finished status)."""
    uuid: str | None
    status: str | None
    body: dict[str, Any]
    """The whole answer (``{}`` when the server sent none)."""
    uuids: int | None
    """How many uuids the request carried (``None`` for a filter)."""


@dataclass(frozen=True)
class MassActionResult:
    """What a mass-action helper sent and what the server answered, request by request."""

    type: str
    answers: tuple[MassActionAnswer, ...] = ()
    selected: int | None = None
    """Distinct uuids given (``None`` for a filter)."""

    @property
    def requests(self) -> int:
        """Requests sent (one per chunk of uuids, one for a filter)."""
        return len(self.answers)

    @property
    def tracking(self) -> tuple[MassActionAnswer, ...]:
        """The answers the server queued (their tracking objects)."""
        return tuple(a for a in self.answers if a.queued)

    @property
    def queued(self) -> bool:
        """Whether any part of the action was queued rather than done at once."""
        return any(a.queued for a in self.answers)


class MassActionError(GetSalesError):
    """Raised when a chunk of a mass action failed; the chunks before it were done.

    Attributes:
        result: the answers of the chunks that succeeded.
        uncertain: ``True`` when the failed request may have run (a 5xx, a timeout, a lost
            connection): its uuids are in ``maybe_done``; ``False`` when it was refused.
        maybe_done: uuids of the failed chunk when ``uncertain`` (else empty).
        not_sent: uuids not acted on for sure (the failed chunk when refused, and every later one).
    """

    def __init__(
        self,
        message: str,
        *,
        result: MassActionResult,
        uncertain: bool,
        maybe_done: Sequence[str],
        not_sent: Sequence[str],
    ) -> None:
        super().__init__(message)
        self.result = result
        self.uncertain = uncertain
        self.maybe_done = list(maybe_done)
        self.not_sent = list(not_sent)


def _answer(response_body: bytes, uuids: int | None) -> MassActionAnswer:
    try:
        data = json.loads(response_body) if response_body.strip() else {}
    except ValueError:
        data = {}  # "Action executed." as text
    data = unwrap_data(data)
    body = data if isinstance(data, dict) else {}
    status = body.get("status")
    status = status if isinstance(status, str) else None
    uuid = body.get("uuid")
    queued = status is not None and status.casefold() in QUEUED_STATUSES
    return MassActionAnswer(
        queued=queued,
        uuid=uuid if isinstance(uuid, str) else None,
        status=status,
        body=body,
        uuids=uuids,
    )


def _uuid_list(uuids: Iterable[str]) -> list[str]:
    if isinstance(uuids, str | bytes | Mapping):
        raise ArgumentError("uuids is a list of contact uuids, e.g. uuids=['a1b2...']")
    out: dict[str, None] = {}
    for position, value in enumerate(uuids):
        if not isinstance(value, str) or not value.strip():
            raise ArgumentError(f"uuids[{position}] is {value!r}; every uuid is a non-empty string")
        out[value.strip()] = None
    return list(out)


def _texts(name: str, values: Sequence[str], *, allow_empty: bool = False) -> list[str]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise ArgumentError(f"{name} is a list of strings, e.g. {name}=['vip']")
    if not values and not allow_empty:
        raise ArgumentError(f"{name} is empty: give at least one")
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise ArgumentError(f"every item of {name} is a non-empty string, got {list(values)!r}")
    return [v.strip() for v in values]


def _text(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ArgumentError(f"{name} is required (a non-empty string), got {value!r}")
    return value.strip()


@dataclass
class _Selection:
    """Who a mass action targets: chunks of uuids, or one filter."""

    uuids: list[str] | None = None
    filter: dict[str, Any] | None = None
    chunk_size: int = CHUNK_SIZE

    def requests(self) -> list[tuple[dict[str, Any], list[str]]]:
        """``(filter, uuids it carries)`` per request."""
        if self.filter is not None:
            return [(self.filter, [])]
        assert self.uuids is not None
        size = self.chunk_size
        return [
            (
                {"all": False, "ids": self.uuids[i : i + size], "excludeIds": []},
                self.uuids[i : i + size],
            )
            for i in range(0, len(self.uuids), size)
        ]


def _selection(
    uuids: Iterable[str] | None, filter: Mapping[str, Any] | None, chunk_size: int
) -> _Selection:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
        raise ArgumentError(f"chunk_size must be an integer, got {chunk_size!r}")
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ArgumentError(f"chunk_size must be between 1 and {MAX_CHUNK_SIZE}, got {chunk_size}")
    if (uuids is None) == (filter is None):
        raise ArgumentError("give exactly one of uuids=[...] or filter={...}")
    if filter is not None:
        if not isinstance(filter, Mapping):
            raise ArgumentError(f"filter is a mapping, got {type(filter).__name__}")
        if not filter:
            raise ArgumentError(
                "filter is empty; pass filter={'all': True} to act on every contact"
            )
        return _Selection(filter=dict(filter), chunk_size=chunk_size)
    assert uuids is not None
    return _Selection(uuids=_uuid_list(uuids), chunk_size=chunk_size)


class ContactMassActions:
    """Mass actions on contacts: ``client.mass_actions.add_tags([...], uuids=[...])``.

    Every method takes exactly one of ``uuids=`` (chunked, see :data:`CHUNK_SIZE`) or
    ``filter=`` (a mass filter), plus ``chunk_size=``, and returns a :class:`MassActionResult`.

    Raises (every method):
        ArgumentError: bad arguments (nothing sent).
        MassActionError: a request failed after earlier chunks were done, or may have run.
        APIStatusError, APIConnectionError: the first request failed and was refused.

    Example::

        result = await client.mass_actions.add_tags(["vip"], uuids=lead_uuids)
        if result.queued:
            print("queued:", [t.uuid for t in result.tracking])
    """

    def __init__(self, client: AsyncGetSales) -> None:
        self._client = client

    async def run(
        self,
        type: str,
        payload: Mapping[str, Any] | None = None,
        *,
        uuids: Iterable[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> MassActionResult:
        """Any mass action by its ``type`` string (names differ between deployments, so any is sent)."""
        action = _text("type", type)
        selection = _selection(uuids, filter, chunk_size)
        answers: list[MassActionAnswer] = []
        chunks = selection.requests()
        for number, (selector, carried) in enumerate(chunks):
            body: dict[str, Any] = {"type": action, "filter": selector}
            if payload:
                body["payload"] = dict(payload)
            try:
                response = await self._client.request("PUT", PATH, json=body, idempotent=False)
            except GetSalesError as exc:
                if not answers and not may_have_run(exc):
                    raise
                raise self._failed(exc, action, selection, answers, chunks, number) from exc
            answers.append(_answer(response.content, len(carried) if selection.uuids else None))
        return MassActionResult(action, tuple(answers), selected=self._selected(selection))

    @staticmethod
    def _selected(selection: _Selection) -> int | None:
        return None if selection.uuids is None else len(selection.uuids)

    def _failed(
        self,
        error: GetSalesError,
        action: str,
        selection: _Selection,
        answers: list[MassActionAnswer],
        chunks: list[tuple[dict[str, Any], list[str]]],
        number: int,
    ) -> MassActionError:
        uncertain = may_have_run(error)
        failed = chunks[number][1]
        later = [u for _, carried in chunks[number + 1 :] for u in carried]
        state = "may have run (not re-sent)" if uncertain else "was refused"
        message = (
            f"{action}: request {number + 1} of {len(chunks)} {state}: {error}; "
            f"{number} earlier request(s) succeeded"
        )
        return MassActionError(
            message,
            result=MassActionResult(action, tuple(answers), selected=self._selected(selection)),
            uncertain=uncertain,
            maybe_done=failed if uncertain else [],
            not_sent=later if uncertain else failed + later,
        )

    # ------------------------------------------------------------------------ typed helpers

    async def add_tags(
        self,
        tags: Sequence[str],
        *,
        uuids: Iterable[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> MassActionResult:
        """``contact_add_tags``: add tags (names or uuids) to the contacts."""
        payload = {"added_tags": _texts("tags", tags)}
        return await self.run(
            "contact_add_tags", payload, uuids=uuids, filter=filter, chunk_size=chunk_size
        )

    async def remove_tags(
        self,
        tags: Sequence[str],
        *,
        uuids: Iterable[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> MassActionResult:
        """``contact_remove_tags``: remove these tags from the contacts."""
        payload = {"removed_tags": _texts("tags", tags)}
        return await self.run(
            "contact_remove_tags", payload, uuids=uuids, filter=filter, chunk_size=chunk_size
        )

    async def replace_tags(
        self,
        tags: Sequence[str],
        *,
        uuids: Iterable[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> MassActionResult:
        """``contact_replace_tags``: the contacts' tags become exactly these (``[]`` clears)."""
        payload = {"tags": _texts("tags", tags, allow_empty=True)}
        return await self.run(
            "contact_replace_tags", payload, uuids=uuids, filter=filter, chunk_size=chunk_size
        )

    async def change_list(
        self,
        list_uuid: str,
        *,
        uuids: Iterable[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> MassActionResult:
        """``contact_change_list``: move the contacts to another list."""
        payload = {"list_uuid": _text("list_uuid", list_uuid)}
        return await self.run(
            "contact_change_list", payload, uuids=uuids, filter=filter, chunk_size=chunk_size
        )

    async def change_pipeline_stage(
        self,
        pipeline_stage_uuid: str,
        *,
        uuids: Iterable[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> MassActionResult:
        """``contact_change_pipeline_stage``: set the contacts' pipeline stage."""
        payload = {"pipeline_stage_uuid": _text("pipeline_stage_uuid", pipeline_stage_uuid)}
        return await self.run(
            "contact_change_pipeline_stage",
            payload,
            uuids=uuids,
            filter=filter,
            chunk_size=chunk_size,
        )

    async def change_custom_field(
        self,
        custom_field_uuid: str,
        value: Scalar,
        *,
        uuids: Iterable[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> MassActionResult:
        """``contact_change_custom_field``: set a custom field on the contacts (``None`` clears it)."""
        if not isinstance(value, str | int | float | bool | None):
            raise ArgumentError(
                f"value is text, a number, a boolean or None, got {type(value).__name__}"
            )
        payload = {
            "custom_field_uuid": _text("custom_field_uuid", custom_field_uuid),
            "value": value,
        }
        return await self.run(
            "contact_change_custom_field",
            payload,
            uuids=uuids,
            filter=filter,
            chunk_size=chunk_size,
        )

    async def add_to_flow(
        self,
        flow_uuid: str,
        *,
        uuids: Iterable[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> MassActionResult:
        """``contact_add_to_flow``: enrol the contacts in a flow (automation)."""
        payload = {"flow_uuid": _text("flow_uuid", flow_uuid)}
        return await self.run(
            "contact_add_to_flow", payload, uuids=uuids, filter=filter, chunk_size=chunk_size
        )

    async def cancel_from_flows(
        self,
        flow_uuids: Sequence[str],
        *,
        uuids: Iterable[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> MassActionResult:
        """``contact_cancel_from_flows``: cancel the contacts from these flows."""
        payload = {"flow_uuids": _texts("flow_uuids", flow_uuids)}
        return await self.run(
            "contact_cancel_from_flows", payload, uuids=uuids, filter=filter, chunk_size=chunk_size
        )

    async def assign_ai_agent(
        self,
        ai_agent_uuid: str,
        *,
        uuids: Iterable[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> MassActionResult:
        """``contact_assign_ai_agent``: assign an AI agent to the contacts."""
        payload = {"ai_agent_uuid": _text("ai_agent_uuid", ai_agent_uuid)}
        return await self.run(
            "contact_assign_ai_agent", payload, uuids=uuids, filter=filter, chunk_size=chunk_size
        )

    async def cancel_ai_agent(
        self,
        *,
        uuids: Iterable[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> MassActionResult:
        """``contact_cancel_ai_agent``: remove the contacts' AI agent."""
        return await self.run(
            "contact_cancel_ai_agent", None, uuids=uuids, filter=filter, chunk_size=chunk_size
        )

    async def delete(
        self,
        *,
        reason: str | None = None,
        uuids: Iterable[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> MassActionResult:
        """``contact_delete``: delete the contacts (and their flow enrolments, messages, tasks)."""
        payload = None if reason is None else {"reason": _text("reason", reason)}
        return await self.run(
            "contact_delete", payload, uuids=uuids, filter=filter, chunk_size=chunk_size
        )

    async def export_csv(
        self,
        *,
        uuids: Iterable[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> MassActionResult:
        """``contact_export_csv``: export the contacts to CSV (file names in the answers' bodies)."""
        return await self.run(
            "contact_export_csv", None, uuids=uuids, filter=filter, chunk_size=chunk_size
        )
