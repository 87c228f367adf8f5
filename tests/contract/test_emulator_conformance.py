"""The emulator answers as ``openapi/bundled.yaml`` says: schemathesis against its ASGI app.

For every operation in ``IMPLEMENTED_OPERATIONS``, schemathesis generates requests from the spec
and sends them in-process to ``GetSalesEmulator().app`` with the default key
(``Authorization: Bearer emulator-key``); no socket is opened. Before each case the emulator is
reset and seeded with one record of every kind (:func:`seed`), and about a third of the positive
cases are pointed at those records (:func:`point_at_records`: the path ``uuid``, ``list_uuid``, a
note's ``object_uuid``, a mass action the emulator implements), so success answers with populated
bodies are checked, not only 404s and empty pages. Operations with something to break (a body, a
query, a non-string path parameter) also get negative cases, sent as generated.

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
from collections.abc import Awaitable, Callable, Mapping
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
    DEFAULT_TEAM_ID,
    IMPLEMENTED_OPERATIONS,
)

from ..conftest import SPEC_PATH, load_spec
from .conftest import EMULATOR_RESULTS_KEY, ContractResults

MAX_EXAMPLES = 25
"""Cases per operation and generation mode: about 2,000 in all, 30-45 s on 2 cores."""
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
class Records:
    """The records :func:`seed` creates: collection path (``/leads/api/lists``) → uuid."""

    uuids: Mapping[str, str]
    tag_name: str

    def __getitem__(self, collection: str) -> str:
        return self.uuids[collection]


MASS_ACTIONS: dict[str, Callable[[Records], dict[str, Any]]] = {
    "contact_add_tags": lambda r: {"added_tags": [r.tag_name, "new-tag"]},
    "contact_remove_tags": lambda r: {"removed_tags": [r.tag_name]},
    "contact_replace_tags": lambda r: {"tags": [r["/leads/api/tags"]]},
    "contact_change_list": lambda r: {"list_uuid": r["/leads/api/lists"]},
    "contact_change_pipeline_stage": lambda r: {
        "pipeline_stage_uuid": r["/leads/api/pipeline-stages"]
    },
    "contact_change_custom_field": lambda r: {
        "custom_field_uuid": r["/leads/api/custom-fields?object=lead"],
        "value": "gold",
    },
    "contact_add_to_flow": lambda r: {"flow_uuid": "flow-1"},
    "contact_cancel_from_flows": lambda r: {"flow_uuids": ["flow-1"]},
    "contact_assign_ai_agent": lambda r: {"ai_agent_uuid": "agent-1"},
    "contact_cancel_ai_agent": lambda r: {},
    "contact_delete": lambda r: {"reason": "conformance"},
    "contact_export_csv": lambda r: {},
}
"""The mass actions the emulator implements, each with a payload naming seeded records."""
UPLOAD_PATH = "/leads/api/file-imports/upload-csv"
UPLOADS = {
    "csv_leads": "First Name,Email,LinkedIn\nAda,ada@x.example,https://www.linkedin.com/in/ada\n",
    "csv_accounts": "Company,Domain\nAcme,acme.example\n",
}
"""A seeded upload per type (column 1 is an identifier), for the import operations."""
IMPORT_COLUMNS = {
    "importLeadsFromFile": {"first_name": 0, "work_email": 1, "linkedin_id": 2},
    "importCompaniesFromFile": {"name": 0, "domain": 1},
}


async def _create_records(client: httpx.AsyncClient) -> Records:
    async def create(path: str, body: Any) -> Any:
        answer = await client.post(path, json=body)
        assert answer.status_code in (200, 201), (path, answer.status_code, answer.text)
        return answer.json()

    tag = "vip"
    lst = await create("/leads/api/lists", {"name": "Prospects"})
    tag_record = await create("/leads/api/tags", {"name": tag, "color": "#ff5733"})
    lead_field = await create(
        "/leads/api/custom-fields", {"name": "score", "object": "lead", "order": 1}
    )
    field = await create("/leads/api/custom-fields", {"name": "tier", "object": "company"})
    [company] = await create(
        "/leads/api/companies",
        {
            "name": "Acme",
            "domain": "acme.example",
            "website": "https://acme.example",
            "linkedin": "https://www.linkedin.com/company/acme",
            "industry": "Software",
            "employees_range": "11-50",
            "hq_raw_address": "1 Main St, Berlin",
            "tags": [tag],
        },
    )
    lead = await create(
        "/leads/api/leads/upsert",
        {
            "list_uuid": lst["uuid"],
            "lead": {
                "linkedin_id": "https://www.linkedin.com/in/janedoe",
                "ln_member_id": "123456",
                "first_name": "Jane",
                "last_name": "Doe",
                "company_name": "Acme",
                "work_email": "jane@acme.example",
                "personal_email": "jane@mail.example",
                "about": "Builds things.",
                "headline": "CTO at Acme",
                "position": "CTO",
                "raw_address": "Berlin, Germany",
                "tags": [tag],
            },
            "custom_fields": {"score": 7},
        },
    )
    note = await create(
        "/leads/api/notes",
        {"object": "lead", "object_uuid": lead["uuid"], "note": "Met at a fair."},
    )
    blocked_lead = await create("/leads/api/leads-blacklist", {"work_email": "spam@spam.example"})
    blocked_company = await create("/leads/api/companies-blacklist", {"domain": "spam.example"})
    webhook = await create(
        "/integrations/api/webhooks",
        {
            "name": "Replies",
            "event": "contact_replied_linkedin_message",
            "target_url": "https://example.com/hooks/getsales",
        },
    )
    uploads = {}
    for kind, text in UPLOADS.items():
        files = {"file": ("seed.csv", text.encode(), "text/csv")}
        answer = await client.post(UPLOAD_PATH, files=files, data={"type": kind})
        assert answer.status_code == 200, (kind, answer.text)
        uploads[kind] = answer.json()["uuid"]
    stages = (await client.get("/leads/api/pipeline-stages")).json()["data"]
    return Records(
        uuids={
            "/leads/api/lists": lst["uuid"],
            "/leads/api/tags": tag_record["uuid"],
            "/leads/api/custom-fields": field["uuid"],
            "/leads/api/pipeline-stages": stages[0]["uuid"],
            "/leads/api/companies": company["uuid"],
            "/leads/api/leads": lead["uuid"],
            "/leads/api/notes": note["uuid"],
            "/leads/api/leads-blacklist": blocked_lead["uuid"],
            "/leads/api/companies-blacklist": blocked_company["uuid"],
            "/integrations/api/webhooks": webhook["uuid"],
            "/leads/api/custom-fields?object=lead": lead_field["uuid"],
            "/leads/api/file-imports/{uuid}/import-leads": uploads["csv_leads"],
            "/leads/api/file-imports/{uuid}/import-companies": uploads["csv_accounts"],
        },
        tag_name=tag,
    )


def seed(emulator: GetSalesEmulator) -> Records:
    """Reset the emulator, then create one record of every kind through its API."""
    emulator.reset()

    async def run() -> Records:
        async with httpx.AsyncClient(
            base_url="http://emulator", transport=emulator.transport(), headers=AUTH
        ) as client:
            return await _create_records(client)

    return anyio.run(run)


def point_at_records(
    case: Case[Any], operation_id: str, records: Records, data: st.DataObject
) -> None:
    """Make a generated case name the seeded records where it would name random uuids."""
    if "uuid" in case.path_parameters:
        case.path_parameters["uuid"] = records[case.path.removesuffix("/{uuid}")]
    if "id" in case.path_parameters:
        case.path_parameters["id"] = DEFAULT_TEAM_ID
    body = case.body
    if not isinstance(body, dict):
        return
    if operation_id == "upsertLead":
        body["list_uuid"] = records["/leads/api/lists"]
    elif operation_id in IMPORT_COLUMNS:
        body["columns"] = IMPORT_COLUMNS[operation_id]
        body.pop("tags", None)
        if operation_id == "importLeadsFromFile":
            body["list_uuid"] = records["/leads/api/lists"]
    elif operation_id == "createNote":
        owner = "/leads/api/companies" if body.get("object") == "company" else "/leads/api/leads"
        body["object_uuid"] = records[owner]
    elif operation_id == "massActionLeads":
        action = data.draw(st.sampled_from(sorted(MASS_ACTIONS)), label="mass action")
        body["type"] = action
        body["payload"] = MASS_ACTIONS[action](records)
        selector = body.get("filter")
        if isinstance(selector, dict):
            body["filter"] = {**selector, "ids": [records["/leads/api/leads"]]}


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
    emulator: GetSalesEmulator,
    operation_id: str,
    mode: GenerationMode,
    statuses: Counter[int],
    allowed: Counter[str],
) -> None:
    """Send ``MAX_EXAMPLES`` generated cases of one operation; raise at the first violation."""
    operation = load_schema().find_operation_by_id(operation_id)

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def check(case: Case[Any], data: st.DataObject) -> None:
        records = seed(emulator)
        if mode is GenerationMode.POSITIVE and data.draw(st.booleans(), label="at records"):
            point_at_records(case, operation_id, records, data)
        response = case.call(app=emulator.app, headers=AUTH)
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


@pytest.fixture(scope="module")
def emulator() -> GetSalesEmulator:
    """One emulator for the module, reset before every case; no quota (not under test here)."""
    return GetSalesEmulator(quota=None, clock=VirtualClock())


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

    @pytest.mark.parametrize("operation_id", sorted(IMPLEMENTED_OPERATIONS))
    def test_emulator_answers_conform_to_the_spec(
        self, operation_id: str, emulator: GetSalesEmulator, request: pytest.FixtureRequest
    ) -> None:
        """Generated requests get a documented status, content type and body, some of them 2xx."""
        results = request.config.stash.setdefault(EMULATOR_RESULTS_KEY, ContractResults())
        statuses = results.statuses.setdefault(operation_id, Counter())
        run_cases(emulator, operation_id, GenerationMode.POSITIVE, statuses, results.allowed)
        if can_negate(load_schema().find_operation_by_id(operation_id)):
            run_cases(emulator, operation_id, GenerationMode.NEGATIVE, statuses, results.allowed)
        successes = sum(n for status, n in statuses.items() if 200 <= status < 300)
        assert successes, f"no 2xx answer was checked ({dict(statuses)}): seed or point better"


class TestHarness:
    """Controls: a conforming answer passes the checks, and each kind of violation is caught."""

    def test_seeded_record_answer_passes_every_check(self, emulator: GetSalesEmulator) -> None:
        """The emulator's answer for a seeded list is a 200 that passes all enabled checks."""
        records = seed(emulator)
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
        seed(emulator)
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


class TestDeepPageAllowance:
    @pytest.mark.parametrize("operation_id", sorted(DEEP_PAGE_OPERATIONS))
    def test_window_of_10000_is_a_conforming_200(
        self, operation_id: str, emulator: GetSalesEmulator
    ) -> None:
        """``offset + limit == 10000`` is still an ordinary page."""
        seed(emulator)
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
        seed(emulator)
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
