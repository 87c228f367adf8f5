"""The operation descriptor: every fact the SDK acts on for one API operation, in one place.

``getsales_async/_resources/_operations.py`` is generated from the spec and
``overrides/resources.yaml`` and holds one :class:`Operation` per operation (the ``OPERATIONS``
table). Each generated resource method passes its descriptor to ``BaseResource._gs_send``, which
reads from it, and from nothing else:

- where to send: the generated endpoint module and the names of the path parameters;
- whether the transport may repeat the call after an ambiguous failure (``idempotent``), with the
  fact that makes it safe or not (``idempotency``);
- what to check before sending: alternatives of required body fields (from the spec's
  ``anyOf``/``oneOf`` of ``required`` lists) and the search window of Elasticsearch-backed pages;
- how to read the answer: the result kind, the named response-shape normalisers
  (:mod:`getsales_async._shapes`), whether ``null`` or "not found" is an answer, the declared status.

The same table drives ``client.resume()``, the emulator's routing and ``docs/operations.md``.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

__all__ = ["Operation", "PageKind", "ResultKind"]

ResultKind = Literal["json", "none", "file"]
PageKind = Literal["envelope", "list"]


class Operation(NamedTuple):
    """One API operation: where it lives on the client and how to send and read it.

    Immutable; a ``NamedTuple`` because the whole table is built at ``import getsales_async``
    and a tuple is the cheapest immutable record to build (a frozen dataclass costs ~5x more).

    Args:
        operation_id: the spec's operationId.
        resource: the client attribute (``client.<resource>``).
        method: the method name on that resource.
        http_method: ``GET``, ``POST``, ``PUT``, ``DELETE`` or ``PATCH``.
        path: the path template, placeholders named like the Python parameters.
        endpoint: the generated endpoint module below ``getsales_async._generated.api``.
        path_params: the path parameters' Python names, in call order.
        idempotent: repeating the call after an ambiguous failure (read timeout, connection lost
            after sending, 502/503/504, empty 200) is safe; only then does the transport retry it.
        idempotency: the fact that makes the call safe (or unsafe) to repeat.
        result: ``json`` (a parsed body), ``none`` (no body), ``file`` (the raw bytes).
        nullable: ``null`` or an empty body is an answer (``None``), not a glitch.
        none_when_not_found: a 404 is the answer ``None`` (lookups).
        shapes: names of the response normalisers applied before parsing, in order.
        declared_status: the documented success status (a different 2xx is parsed as this one).
        accept: the ``Accept`` header for non-JSON answers (CSV downloads).
        page_kind: ``envelope`` (``{data, total, ...}``) or ``list`` for paginated operations.
        page_in: where ``limit``/``offset`` travel: ``query`` or ``body``.
        require_any_of: groups of body fields, at least one given in full (the spec's ``anyOf``
            of ``required`` lists).
        require_one_of: groups of body fields, exactly one given in full (``oneOf``).
        search_window: ``offset + limit`` may not pass this (Elasticsearch-backed searches).
    """

    operation_id: str
    resource: str
    method: str
    http_method: str
    path: str
    endpoint: str
    path_params: tuple[str, ...] = ()
    idempotent: bool = False
    idempotency: str = ""
    result: ResultKind = "json"
    nullable: bool = False
    none_when_not_found: bool = False
    shapes: tuple[str, ...] = ()
    declared_status: int = 200
    accept: str | None = None
    page_kind: PageKind | None = None
    page_in: Literal["query", "body"] | None = None
    require_any_of: tuple[tuple[str, ...], ...] = ()
    require_one_of: tuple[tuple[str, ...], ...] = ()
    search_window: int | None = None

    @property
    def paginated(self) -> bool:
        """Whether the public method returns an ``AsyncPaginator``."""
        return self.page_kind is not None

    @property
    def expect_body(self) -> bool:
        """An empty 2xx body is a server glitch (worth a retry where the call is idempotent)."""
        return self.result != "none" and not self.nullable
