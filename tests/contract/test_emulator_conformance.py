"""The emulator answers as ``openapi/bundled.yaml`` says: schemathesis against its ASGI app.

For every operation of the spec (those the emulator does not implement are skipped and named in
the summary), schemathesis generates requests from the spec and sends them in-process to the
emulator's app with the default key (``Authorization: Bearer emulator-key``); no socket is opened.
The emulator is seeded once through its API with one record of every kind
(``emulator_seed.seed``) and restored from that snapshot before every case; about half of the
positive cases are pointed at those records (``emulator_seed.point_at_records``: path
parameters, reference fields, a few values whose rules a schema cannot state), so success answers
with populated bodies are checked, not only 404s and empty pages. Operations with something to
break (a body, a query, a non-string path parameter) also get negative cases, sent as generated.
Webhook deliveries go to an in-process receiver that accepts them.

Every answer must pass schemathesis's checks ``not_a_server_error``, ``status_code_conformance``,
``content_type_conformance``, ``response_schema_conformance`` and
``response_headers_conformance``. ``positive_data_acceptance`` is not enabled: the emulator, like
production, answers some schema-valid requests with the 422 every operation documents, for rules
a schema cannot state (a blank required string, a name that exists, "at least one identifier",
an unknown list or custom field), so that check would report conforming answers.

One allowance (:func:`is_deliberate_deep_page`): ``searchLeads`` and ``listCompanies`` answer
``offset + limit > 10000`` with a 500 ``server_error`` "Result window is too large", as
production does. The spec documents no 500, so such an answer is accepted only when the request
asked for that window and the envelope says exactly that.

Generation is derandomized: the same command sends the same cases every run. (Hypothesis also
draws constants from the project modules imported so far, so running this file alone and inside
the whole suite send slightly different cases; each is repeatable.)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import anyio
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.schemas import OpenApiSchema

from getsales_async.testing import GetSalesEmulator, VirtualClock
from getsales_async.testing.emulator import (
    DEFAULT_API_KEY,
    IMPLEMENTED_OPERATIONS,
    EmulatorSnapshot,
)
from getsales_async.testing.emulator._mass_actions import MASS_ACTION_TYPES

from ..conftest import SPEC_PATH, load_spec
from .conftest import EMULATOR_RESULTS_KEY, ContractResults
from .emulator_seed import IMPORTS, MASS_ACTIONS, UPLOADS, Records, point_at_records, seed

MAX_EXAMPLES = 25
"""Cases per operation and generation mode: about 7,000 in all."""
AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
SEARCH_WINDOW = 10_000
"""Production's (and the emulator's) deep-page limit: ``offset + limit`` above it is a 500."""
DEEP_PAGE_OPERATIONS = frozenset({"searchLeads", "listCompanies"})
DEEP_PAGE = "Result window is too large"
"""How the deep-page 500's ``error.message`` starts (Elasticsearch's words, as production)."""
DEFAULT_LIMIT = 20
"""``limit`` when the body has none (``pagination-body`` in the spec)."""

SPEC_OPERATIONS = sorted(
    op["operationId"]
    for item in load_spec()["paths"].values()
    for op in item.values()
    if isinstance(op, dict) and "operationId" in op
)
"""Every operation of the spec: all are run (the suite's denominator)."""

ASGIApp = Callable[
    [dict[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


@cache
def load_schema() -> OpenApiSchema:
    """The spec as schemathesis reads it: only :data:`CHECKS`, no cache, no generated auth."""
    config = schemathesis.Config.from_dict(
        {
            "cache": {"enabled": False},
            "generation": {"with-security-parameters": False},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        }
    )
    return schemathesis.openapi.from_path(SPEC_PATH, config=config)


# ---------------------------------------------------------------------------- seeded records


@dataclass(frozen=True)
class Seeded:
    """The module's emulator, its seeded records, and the snapshot every case starts from."""

    emulator: GetSalesEmulator
    records: Records
    snapshot: EmulatorSnapshot

    def fresh(self) -> Records:
        """Put the seeded state back (the request log is cleared too); returns the records."""
        self.emulator.reset()
        self.emulator.restore(self.snapshot)
        return self.records


# ---------------------------------------------------------------------------- the allowance


def is_deliberate_deep_page(
    operation_id: str, case: Case[Any], response: schemathesis.Response
) -> bool:
    """Whether this is the deep-page 500: ``offset + limit > 10000`` asked, and answered as such."""
    if operation_id not in DEEP_PAGE_OPERATIONS or response.status_code != 500:
        return False
    body = case.body if isinstance(case.body, dict) else {}
    offset, limit = body.get("offset", 0), body.get("limit", DEFAULT_LIMIT)
    if not (isinstance(offset, int) and isinstance(limit, int)):
        return False
    if isinstance(offset, bool) or isinstance(limit, bool):  # JSON true is not a number
        return False
    try:
        envelope = json.loads(response.content)
    except ValueError:
        return False
    error = envelope.get("error") if isinstance(envelope, dict) else None
    return (
        offset + limit > SEARCH_WINDOW
        and isinstance(error, dict)
        and error.get("reason") == "server_error"
        and str(error.get("message", "")).startswith(DEEP_PAGE)
    )


# ---------------------------------------------------------------------------- running cases


def can_negate(operation: APIOperation[Any, Any, Any, Any]) -> bool:
    """Whether schemathesis can make a request invalid: a body, a query or a typed path parameter."""
    path_types = {p.definition.get("schema", {}).get("type") for p in operation.path_parameters}
    return bool(operation.body) or bool(operation.query) or bool(path_types - {"string"})


def failed_checks(case: Case[Any], response: schemathesis.Response) -> set[str]:
    """The checks named by the answer's failures (empty when it conforms).

    A failure kind names every check that can raise it (a schema violation names both
    ``response_schema_conformance`` and ``response_headers_conformance``).
    """
    try:
        case.validate_response(response, headers=AUTH)
    except FailureGroup as group:
        return {name for failure in group.exceptions for name in failure.checks}
    return set()


def run_cases(
    seeded: Seeded,
    operation_id: str,
    mode: GenerationMode,
    statuses: Counter[int],
    allowed: Counter[str],
) -> None:
    """Send ``MAX_EXAMPLES`` generated cases of one operation; raise at the first violation."""
    operation = load_schema().find_operation_by_id(operation_id)
    app = seeded.emulator.app

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def check(case: Case[Any], data: st.DataObject) -> None:
        records = seeded.fresh()
        if mode is GenerationMode.POSITIVE and data.draw(st.booleans(), label="at records"):
            point_at_records(case, operation_id, records, data)
        response = case.call(app=app, headers=AUTH)
        statuses[response.status_code] += 1
        if is_deliberate_deep_page(operation_id, case, response):
            allowed[operation_id] += 1
            return
        case.validate_response(response, headers=AUTH)

    check()


def canned(status: int, body: bytes, content_type: str) -> ASGIApp:
    """An ASGI app that answers every request with the same status, body and content type."""

    async def app(
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        headers = [(b"content-type", content_type.encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def _receiver(request: httpx.Request) -> httpx.Response:
    """Where the module's webhook deliveries go: an in-process receiver that accepts them."""
    return httpx.Response(200, json={"received": True})


@pytest.fixture(scope="module")
def seeded() -> Seeded:
    """One emulator for the module, seeded once and restored before every case; no quota."""
    emulator = GetSalesEmulator(
        quota=None, clock=VirtualClock(), webhook_transport=httpx.MockTransport(_receiver)
    )
    records = anyio.run(seed, emulator, AUTH)
    return Seeded(emulator, records, emulator.snapshot())


@pytest.fixture
def emulator(seeded: Seeded) -> GetSalesEmulator:
    """The module's emulator, freshly restored to its seeded state."""
    seeded.fresh()
    return seeded.emulator


# ---------------------------------------------------------------------------- tests


class TestConformance:
    def test_every_implemented_operation_is_in_the_spec(self) -> None:
        """Each operation the emulator implements is an operationId of the spec."""
        spec_ids = {
            op["operationId"]
            for item in load_spec()["paths"].values()
            for op in item.values()
            if isinstance(op, dict) and "operationId" in op
        }
        assert sorted(IMPLEMENTED_OPERATIONS - spec_ids) == []

    @pytest.mark.parametrize("operation_id", SPEC_OPERATIONS)
    def test_emulator_answers_conform_to_the_spec(
        self, operation_id: str, seeded: Seeded, request: pytest.FixtureRequest
    ) -> None:
        """Generated requests get a documented status, content type and body, some of them 2xx."""
        if operation_id not in IMPLEMENTED_OPERATIONS:
            pytest.skip(f"{operation_id} is not implemented on this branch")
        results = request.config.stash.setdefault(EMULATOR_RESULTS_KEY, ContractResults())
        statuses = results.statuses.setdefault(operation_id, Counter())
        run_cases(seeded, operation_id, GenerationMode.POSITIVE, statuses, results.allowed)
        if can_negate(load_schema().find_operation_by_id(operation_id)):
            run_cases(seeded, operation_id, GenerationMode.NEGATIVE, statuses, results.allowed)
        successes = sum(n for status, n in statuses.items() if 200 <= status < 300)
        assert successes, f"no 2xx answer was checked ({dict(statuses)}): seed or point better"


class TestHarness:
    """Controls: a conforming answer passes the checks, and each kind of violation is caught."""

    def test_seeded_record_answer_passes_every_check(
        self, emulator: GetSalesEmulator, seeded: Seeded
    ) -> None:
        """The emulator's answer for a seeded list is a 200 that passes all enabled checks."""
        records = seeded.records
        case = (
            load_schema()
            .find_operation_by_id("getList")
            .Case(path_parameters={"uuid": records["/leads/api/lists"]})
        )
        response = case.call(app=emulator.app, headers=AUTH)
        assert response.status_code == 200
        assert failed_checks(case, response) == set()

    @pytest.mark.parametrize(
        ("operation_id", "body"),
        [
            pytest.param("createList", {"name": " "}, id="blank-required-string"),
            pytest.param("createList", {"name": "prospects"}, id="duplicate-name"),
            pytest.param("lookupOneLead", {"name": "Jane"}, id="no-identifier"),
            pytest.param(
                "upsertLead", {"lead": {}, "list_uuid": "no-such-list"}, id="unknown-list"
            ),
        ],
    )
    def test_documented_422_for_schema_valid_data_passes(
        self, operation_id: str, body: dict[str, Any], emulator: GetSalesEmulator
    ) -> None:
        """Data the schema allows but stored data or a cross-field rule refuses is a conforming 422."""
        case = load_schema().find_operation_by_id(operation_id).Case(body=body)
        response = case.call(app=emulator.app, headers=AUTH)
        assert response.status_code == 422
        assert failed_checks(case, response) == set()

    @pytest.mark.parametrize(
        ("status", "body", "content_type", "expected"),
        [
            pytest.param(
                200,
                b'{"uuid": 1, "name": ["Prospects"]}',
                "application/json",
                {"response_schema_conformance"},
                id="body-against-schema",
            ),
            pytest.param(
                409,
                b'{"error": {"reason": "conflict", "message": "", "data": []}}',
                "application/json",
                {"status_code_conformance"},
                id="undocumented-4xx",
            ),
            pytest.param(
                503,
                b'{"error": {"reason": "server_error", "message": "", "data": []}}',
                "application/json",
                {"not_a_server_error", "status_code_conformance"},
                id="server-error",
            ),
            pytest.param(
                200, b"<html></html>", "text/html", {"content_type_conformance"}, id="html"
            ),
        ],
    )
    def test_violation_is_caught_by_its_check(
        self, status: int, body: bytes, content_type: str, expected: set[str]
    ) -> None:
        """A canned answer that breaks the spec fails the check meant to catch it."""
        case = load_schema().find_operation_by_id("getList").Case(path_parameters={"uuid": "x"})
        response = case.call(app=canned(status, body, content_type), headers=AUTH)
        assert expected <= failed_checks(case, response)


class TestBulkSeeds:
    """The seeded bulk payloads reach a conforming 2xx, so the fuzzed cases pointed at them do."""

    @pytest.mark.parametrize("action", MASS_ACTION_TYPES)
    def test_every_mass_action_type_conforms_with_a_2xx(
        self, action: str, emulator: GetSalesEmulator, seeded: Seeded
    ) -> None:
        """Each documented type, with its seeded payload, answers a 200 that passes every check."""
        body = {
            "type": action,
            "filter": {"ids": [seeded.records["/leads/api/leads"]]},
            "payload": MASS_ACTIONS[action](seeded.records),
        }
        case = load_schema().find_operation_by_id("massActionLeads").Case(body=body)
        response = case.call(app=emulator.app, headers=AUTH)
        assert response.status_code == 200, response.text
        assert failed_checks(case, response) == set()

    @pytest.mark.parametrize("kind", sorted(UPLOADS))
    def test_uploads_conform_with_a_2xx(self, kind: str, emulator: GetSalesEmulator) -> None:
        """A seeded CSV of each type uploads with a 200 that passes every check."""
        body = {"type": kind, "file": UPLOADS[kind].encode()}
        case = load_schema().find_operation_by_id("uploadCsv").Case(body=body)
        response = case.call(app=emulator.app, headers=AUTH)
        assert response.status_code == 200, response.text
        assert failed_checks(case, response) == set()

    @pytest.mark.parametrize("operation_id", sorted(IMPORTS))
    def test_imports_conform_with_a_2xx(
        self, operation_id: str, emulator: GetSalesEmulator, seeded: Seeded
    ) -> None:
        """Each import of its seeded upload, with the seeded columns, starts with a conforming 200."""
        kind, columns = IMPORTS[operation_id]
        body: dict[str, Any] = {"columns": columns}
        if operation_id == "importLeadsFromFile":
            body["list_uuid"] = seeded.records["/leads/api/lists"]
        uuid = seeded.records[f"upload:{kind}"]
        case = (
            load_schema()
            .find_operation_by_id(operation_id)
            .Case(path_parameters={"uuid": uuid}, body=body)
        )
        response = case.call(app=emulator.app, headers=AUTH)
        assert response.status_code == 200, response.text
        assert failed_checks(case, response) == set()


class TestDeepPageAllowance:
    @pytest.mark.parametrize("operation_id", sorted(DEEP_PAGE_OPERATIONS))
    def test_window_of_10000_is_a_conforming_200(
        self, operation_id: str, emulator: GetSalesEmulator
    ) -> None:
        """``offset + limit == 10000`` is still an ordinary page."""
        case = (
            load_schema()
            .find_operation_by_id(operation_id)
            .Case(body={"offset": SEARCH_WINDOW - 20, "limit": 20})
        )
        response = case.call(app=emulator.app, headers=AUTH)
        assert response.status_code == 200
        assert failed_checks(case, response) == set()

    @pytest.mark.parametrize("operation_id", sorted(DEEP_PAGE_OPERATIONS))
    def test_window_over_10000_is_the_allowed_500(
        self, operation_id: str, emulator: GetSalesEmulator
    ) -> None:
        """One past the window is the deliberate 500: the checks flag it and the allowance admits it."""
        case = (
            load_schema()
            .find_operation_by_id(operation_id)
            .Case(body={"offset": SEARCH_WINDOW - 19, "limit": 20})
        )
        response = case.call(app=emulator.app, headers=AUTH)
        assert response.status_code == 500
        assert failed_checks(case, response) == {"not_a_server_error", "status_code_conformance"}
        assert is_deliberate_deep_page(operation_id, case, response)

    @pytest.mark.parametrize(
        ("operation_id", "body", "message"),
        [
            pytest.param("searchLeads", {"offset": 0}, DEEP_PAGE, id="small-window"),
            pytest.param("searchLeads", {"offset": 20_000}, "Internal error", id="other-message"),
            pytest.param("searchLeads", {"offset": 20_000.0}, DEEP_PAGE, id="float-offset"),
            pytest.param("searchLeads", {"offset": True, "limit": 10_000}, DEEP_PAGE, id="bool"),
            pytest.param("countLeads", {"offset": 20_000}, DEEP_PAGE, id="other-operation"),
        ],
    )
    def test_other_500s_are_not_allowed(
        self, operation_id: str, body: dict[str, Any], message: str
    ) -> None:
        """A 500 is allowed only with the deep-page operation, window and message all present."""
        envelope = {"error": {"reason": "server_error", "message": message, "data": []}}
        case = load_schema().find_operation_by_id(operation_id).Case(body=body)
        app = canned(500, json.dumps(envelope).encode(), "application/json")
        response = case.call(app=app, headers=AUTH)
        assert not is_deliberate_deep_page(operation_id, case, response)
