"""Resources: all 153 operations are reachable, and the API's known response shapes are handled.

The first class walks ``openapi/bundled.yaml`` and calls every operation through its resource
method, with arguments built from the method's annotations. The rest covers the special cases
of ``api-facts.md`` (facts 20-32): lookup "not found", 204 answers, wrapped and flat shapes, maps
that arrive as ``[]``, CSV download and multipart upload, empty bodies, local argument checks,
``extra_body``, ``with_raw_response`` and lenient models.
"""

from __future__ import annotations

import collections.abc
import datetime
import enum
import inspect
import io
import json
import re
import types
import typing
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import attrs
import httpx
import pytest
from pytest_httpx import HTTPXMock

from getsales_async import (
    APIResponseValidationError,
    ArgumentError,
    AsyncGetSales,
    Page,
    RateLimit,
    RawResponse,
)
from getsales_async._generated import models as generated_models
from getsales_async._generated.types import File, Unset
from getsales_async._resources import OPERATIONS
from getsales_async.models import (
    AddNewLeadResult,
    CompanySearchResult,
    FlowMetrics,
    GetFlowMetricsResponse200,
    GetLinkedinMessageGroupCountsBodyGroupField,
    GroupCounts,
    Lead,
    LeadSearchResult,
    OrderType,
    Tag,
    UploadCsvBodyType,
    Webhook,
    WebhookEvent,
    WebhookRequestMethod,
)
from getsales_async.testing import VirtualClock

from .conftest import load_normalized_spec

BASE = "https://api.test"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
SDK_GAP = "SDK gap"
pytestmark = pytest.mark.anyio

# pytest-httpx patches httpx.AsyncHTTPTransport, so this instance never opens a connection. One
# shared instance saves building an SSL context (~20 ms) for every client of every test.
MOCKED_TRANSPORT = httpx.AsyncHTTPTransport()


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def client(clock: VirtualClock) -> AsyncIterator[AsyncGetSales]:
    """A client on a fresh key (its own limiter), virtual time running by itself."""
    async with (
        clock.autojump(),
        AsyncGetSales(
            api_key=f"test-key-{uuid.uuid4().hex}",
            base_url=BASE,
            clock=clock,
            rate_limit=RateLimit(requests=6000, period=60.0, burst=50),
            transport=MOCKED_TRANSPORT,
        ) as c,
    ):
        yield c


def url(path: str) -> re.Pattern[str]:
    """Match ``path`` below the base URL, with any query string."""
    return re.compile(re.escape(BASE + path) + r"(\?.*)?$")


def only_request(httpx_mock: HTTPXMock) -> httpx.Request:
    requests = httpx_mock.get_requests()
    assert len(requests) == 1, [str(r.url) for r in requests]
    return requests[0]


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


# ------------------------------------------------------------------ arguments from annotations

# Names the generated annotations refer to (imported under TYPE_CHECKING in the resource modules).
TYPE_NAMESPACE: dict[str, Any] = {
    name: getattr(generated_models, name) for name in generated_models.__all__
}
TYPE_NAMESPACE.update(datetime=datetime, File=File)


def snake(name: str) -> str:
    """The generator's snake case for path parameter names (``flowUuid`` -> ``flow_uuid``)."""
    return "_".join(w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name))


def union_arms(annotation: Any) -> list[Any]:
    """The arms of a union, without ``Unset`` and ``None``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(annotation) if a not in (Unset, type(None))]
    return [annotation]


def is_model(tp: Any) -> bool:
    return isinstance(tp, type) and attrs.has(tp) and hasattr(tp, "from_dict")


def minimal_model(cls: type[Any]) -> Any:
    """An instance of a generated model with only its required fields, each minimal."""
    hints = typing.get_type_hints(cls, localns=TYPE_NAMESPACE)
    fields = {
        f.name: minimal_value(hints[f.name])
        for f in attrs.fields(cls)
        if f.init and f.default is attrs.NOTHING
    }
    return cls(**fields)


def minimal_value(annotation: Any) -> Any:
    """A minimal valid value for a parameter annotation (models given as mappings if allowed)."""
    arms = union_arms(annotation)
    models = [a for a in arms if is_model(a)]
    if models and any(typing.get_origin(a) is collections.abc.Mapping for a in arms):
        return minimal_model(models[0]).to_dict()
    tp = arms[0]
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return typing.get_args(tp)[0]
    if origin in (list, collections.abc.Sequence):
        return []
    if origin in (dict, collections.abc.Mapping):
        return {}
    if tp is File:
        return File(payload=io.BytesIO(b"name\nAnn\n"), file_name="leads.csv", mime_type="text/csv")
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return next(iter(tp))
    simple: dict[Any, Any] = {
        bool: True,
        int: 1,
        float: 1.0,
        str: "x",
        Any: "x",
        datetime.date: datetime.date(2024, 1, 1),
        datetime.datetime: datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
    }
    if tp in simple:
        return simple[tp]
    if is_model(tp):
        return minimal_model(tp)
    raise TypeError(f"no minimal value for {tp!r}")


def spec_operations() -> dict[str, tuple[str, str, int]]:
    """operationId -> (HTTP method, spec path, first declared 2xx status), as the generator reads them."""
    out = {}
    for path, item in load_normalized_spec()["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                status = min(int(code) for code in op["responses"] if str(code).startswith("2"))
                out[str(op["operationId"])] = (method.upper(), path, status)
    return out


SPEC_OPERATIONS = spec_operations()
# Operations the SDK checks locally for "at least one identifier" (from the spec's anyOf/oneOf of
# required lists): the walk supplies the first group.
REQUIRED_IDENTIFIERS: dict[str, tuple[str, ...]] = {
    op_id: (op.require_any_of or op.require_one_of)[0]
    for op_id, op in OPERATIONS.items()
    if op.require_any_of or op.require_one_of
}

# Operations that cannot be called as their signature says (SDK gaps; strict xfail so a fix shows).
KNOWN_GAPS: dict[str, Any] = {}
EVERY_PARAMETER_GAPS: dict[str, Any] = {}


def operation_params(gaps: dict[str, Any]) -> list[Any]:
    return [
        pytest.param(op_id, marks=gaps[op_id]) if op_id in gaps else op_id
        for op_id in sorted(SPEC_OPERATIONS)
    ]


@dataclass
class PreparedCall:
    """One operation called with annotation-built arguments, its response already registered."""

    method: str
    expected_path: str
    paginated: bool
    allowed: tuple[type, ...]  # the declared result types (empty: the method returns None)
    invoke: Callable[[], Any]


# Method parameters that configure the SDK rather than the request.
SDK_PARAMETERS = {"extra_body", "request_options", "page_size", "start_offset", "concurrency"}


def prepare_call(
    client: AsyncGetSales,
    httpx_mock: HTTPXMock,
    operation_id: str,
    *,
    every_parameter: bool = False,
    optional_response: bool = False,
) -> PreparedCall:
    """Build arguments from the method's annotations and register a valid response.

    Path parameters get a UUID string or an int; required keyword parameters (and, with
    ``every_parameter``, the optional ones too) get :func:`minimal_value`. The response is an
    empty page envelope (or ``[]``) for paginated operations, the declared status with no body for
    ``None``, CSV bytes for downloads, and the declared model's required fields otherwise.
    """
    method, spec_path, status = SPEC_OPERATIONS[operation_id]
    op = OPERATIONS[operation_id]
    call = getattr(getattr(client, op.resource), op.method)
    hints = typing.get_type_hints(call, localns=TYPE_NAMESPACE)

    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    path_values: dict[str, Any] = {}
    for i, (name, param) in enumerate(inspect.signature(call).parameters.items()):
        required = param.default is inspect.Parameter.empty
        if param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            value: Any = 40 + i if hints[name] is int else str(uuid.UUID(int=i + 1))
            args.append(value)
            path_values[name] = value
        elif required or (every_parameter and name not in SDK_PARAMETERS):
            kwargs[name] = minimal_value(hints[name])
    for field in REQUIRED_IDENTIFIERS.get(operation_id, ()):
        kwargs.setdefault(field, minimal_value(hints[field]))  # the local "at least one of" rule
    for group in op.require_one_of[1:]:  # "exactly one of": only the first group is given
        for field in set(group) - set(op.require_one_of[0]):
            kwargs.pop(field, None)
    placeholders = [snake(p) for p in re.findall(r"{([^}]+)}", spec_path)]
    assert placeholders == list(path_values)
    expected_path = re.sub(r"{([^}]+)}", lambda m: str(path_values[snake(m.group(1))]), spec_path)

    returns = hints["return"]
    allowed: tuple[type, ...] = ()
    response: dict[str, Any] = {"status_code": status}
    if op.paginated:
        page_type = typing.get_args(returns)[1]
        response = {
            "json": []
            if typing.get_origin(page_type) is list
            else {"data": [], "total": 0, "limit": 100, "offset": 0, "has_more": False}
        }
    elif returns is bytes:
        response = {"content": b"uuid,name\n1,Ann\n", "headers": {"content-type": "text/csv"}}
        allowed = (bytes,)
    elif returns is not type(None):
        arms = union_arms(returns)
        models = [a for a in arms if is_model(a)]
        allowed = tuple(typing.get_origin(a) or a for a in arms)
        response["json"] = minimal_model(models[0]).to_dict() if models else []
    httpx_mock.add_response(
        method=method, url=url(expected_path), is_optional=optional_response, **response
    )
    return PreparedCall(
        method=method,
        expected_path=expected_path,
        paginated=op.paginated,
        allowed=allowed,
        invoke=lambda: call(*args, **kwargs),
    )


async def run_prepared(prepared: PreparedCall, httpx_mock: HTTPXMock) -> httpx.Request:
    """Call, check the result against the declared type, and return the one request sent."""
    if prepared.paginated:
        page = await prepared.invoke()
        assert isinstance(page, Page) and page.items == []
    else:
        result = await prepared.invoke()
        if prepared.allowed:
            assert isinstance(result, prepared.allowed), result
        else:
            assert result is None
    request = only_request(httpx_mock)
    assert request.method == prepared.method
    assert request.url.raw_path.split(b"?")[0].decode() == prepared.expected_path
    return request


class TestOperationCoverage:
    def test_every_spec_operation_is_in_the_operation_table(self) -> None:
        """The spec's operationIds are exactly the table's, with the same method and path."""
        assert set(OPERATIONS) == set(SPEC_OPERATIONS)
        for op_id, (method, path, _status) in SPEC_OPERATIONS.items():
            op = OPERATIONS[op_id]
            assert op.http_method == method, op_id
            assert op.path == re.sub(r"{([^}]+)}", lambda m: "{" + snake(m.group(1)) + "}", path)

    @pytest.mark.parametrize("operation_id", operation_params(KNOWN_GAPS))
    async def test_operation_sends_spec_method_and_path(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, operation_id: str
    ) -> None:
        """Calling the operation's method sends the spec's HTTP method to its path, and parses."""
        prepared = prepare_call(
            client, httpx_mock, operation_id, optional_response=operation_id in KNOWN_GAPS
        )
        request = await run_prepared(prepared, httpx_mock)
        if prepared.paginated:
            sent = dict(request.url.params) if prepared.method == "GET" else body_of(request)
            assert (int(sent["limit"]), int(sent["offset"])) == (100, 0)

    @pytest.mark.parametrize("anyio_backend", ["asyncio"])  # argument building only
    @pytest.mark.parametrize("operation_id", operation_params(EVERY_PARAMETER_GAPS))
    async def test_operation_accepts_every_parameter_of_its_annotated_type(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, operation_id: str
    ) -> None:
        """With every optional parameter given a value of its annotated type, the call still works."""
        prepared = prepare_call(
            client,
            httpx_mock,
            operation_id,
            every_parameter=True,
            optional_response=operation_id in EVERY_PARAMETER_GAPS,
        )
        await run_prepared(prepared, httpx_mock)


# ------------------------------------------------------------------ special cases


class TestPathParameters:
    async def test_path_parameters_are_url_encoded(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A path parameter with '/' and spaces cannot escape its path segment."""
        httpx_mock.add_response(json={"uuid": "x"})
        await client.leads.get("a/b c")
        assert only_request(httpx_mock).url.raw_path == b"/leads/api/leads/a%2Fb%20c"

    async def test_integer_path_parameter_is_sent_as_digits(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Teams are addressed by integer id (fact 24)."""
        httpx_mock.add_response(url=BASE + "/id/api/teams/42", json={"id": 42})
        team = await client.teams.get(42)
        assert team.id == 42


class TestLookup:
    async def test_lookup_returns_the_lead_when_found(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A found lead is parsed, and only the given identifiers are sent."""
        httpx_mock.add_response(
            method="POST", url=BASE + "/leads/api/leads/lookup-one", json={"uuid": "l1"}
        )
        lead = await client.leads.lookup(email="ann@example.com")
        assert isinstance(lead, Lead) and lead.uuid == "l1"
        assert body_of(only_request(httpx_mock)) == {"email": "ann@example.com"}

    async def test_lookup_by_name_and_company_sends_both(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """name + company_name is a valid identifier pair."""
        httpx_mock.add_response(json={"data": {"uuid": "l2"}})
        lead = await client.leads.lookup(name="Ann Lee", company_name="Acme")
        assert lead is not None and lead.uuid == "l2"
        assert body_of(only_request(httpx_mock)) == {"name": "Ann Lee", "company_name": "Acme"}

    @pytest.mark.parametrize("content", [b"null", b""], ids=["null", "empty"])
    async def test_lookup_returns_none_for_a_null_or_empty_body(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, content: bytes
    ) -> None:
        """Not found as 200 `null` or an empty 200 is None (fact 27)."""
        # reusable: today the transport retries an empty 200 on this idempotent POST
        httpx_mock.add_response(content=content, is_reusable=True)
        assert await client.leads.lookup(linkedin_id="ann-lee") is None

    async def test_lookup_returns_none_for_404(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Not found as a 404 is None too (fact 27, source S3)."""
        httpx_mock.add_response(status_code=404, json={"message": "Not found"})
        assert await client.leads.lookup(email="nobody@example.com") is None
        assert len(httpx_mock.get_requests()) == 1

    @pytest.mark.parametrize(
        "kwargs",
        [{}, {"name": "Ann Lee"}, {"company_name": "Acme"}, {"disable_aggregation": True}],
        ids=["nothing", "name-only", "company-only", "flags-only"],
    )
    async def test_lookup_without_identifier_raises_argument_error(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, kwargs: dict[str, Any]
    ) -> None:
        """Without linkedin_id, email or name + company_name, lookup fails locally (fact 27)."""
        httpx_mock.add_response(json={"uuid": "l1"}, is_optional=True)
        with pytest.raises(ArgumentError, match="linkedin_id"):
            await client.leads.lookup(**kwargs)
        assert httpx_mock.get_requests() == []


class TestFlowLeads:
    async def test_add_lead_to_flow_204_returns_none(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """POST /flows/{flow}/leads/{lead} answers 204: the method returns None (fact 29)."""
        httpx_mock.add_response(
            method="POST", url=BASE + "/flows/api/flows/f1/leads/l1", status_code=204
        )
        assert await client.flow_leads.add("f1", "l1", contact_source_id=3) is None
        assert body_of(only_request(httpx_mock)) == {"contact_source_id": 3}

    async def test_add_new_lead_204_returns_none(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """add-new-lead 204 (created) is None; the body uses the add-new-lead field names."""
        httpx_mock.add_response(
            method="POST", url=BASE + "/flows/api/flows/f1/add-new-lead", status_code=204
        )
        result = await client.flow_leads.add_new(
            "f1",
            lead={"linkedin_id": "ann-lee", "first_name": "Ann"},
            list_uuid="list-1",
            update_lead_if_exists=True,
            skip_if_lead_exists=False,
            flow_segment_id=2,
        )
        assert result is None
        body = body_of(only_request(httpx_mock))
        assert body["lead"]["linkedin_id"] == "ann-lee"
        assert body["update_lead_if_exists"] is True and "update_if_exists" not in body
        assert (body["skip_if_lead_exists"], body["flow_segment_id"]) == (False, 2)

    async def test_add_new_lead_200_skipped_returns_reason(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """add-new-lead 200 {"reason": "skipped"} is a success carrying the reason (fact 26)."""
        httpx_mock.add_response(json={"reason": "skipped"})
        result = await client.flow_leads.add_new(
            "f1", lead={"linkedin_id": "ann-lee"}, list_uuid="list-1", skip_if_lead_exists=True
        )
        assert isinstance(result, AddNewLeadResult) and result.reason == "skipped"


class TestResponseShapes:
    @pytest.mark.parametrize(
        "payload",
        [
            {"data": {"uuid": "w1", "event": "contact_replied"}},
            {"uuid": "w1", "event": "contact_replied"},
        ],
        ids=["wrapped", "bare"],
    )
    async def test_webhook_create_unwraps_data_or_takes_bare(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, payload: dict[str, Any]
    ) -> None:
        """A created webhook is parsed whether it comes wrapped in data or bare (fact 21)."""
        httpx_mock.add_response(
            method="POST", url=BASE + "/integrations/api/webhooks", status_code=201, json=payload
        )
        webhook = await client.webhooks.create(
            name="replies",
            event=WebhookEvent("contact_replied"),
            target_url="https://hooks.example.com/gs?token=t",
            request_method=WebhookRequestMethod("POST"),
        )
        assert isinstance(webhook, Webhook) and webhook.uuid == "w1"

    async def test_webhook_create_defaults_request_method_to_post(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """request_method is required by the server, so the SDK sends "POST" by default (fact 30)."""
        httpx_mock.add_response(status_code=201, json={"uuid": "w1"})
        await client.webhooks.create(
            name="replies", event=WebhookEvent("contact_replied"), target_url="https://h.example"
        )
        assert body_of(only_request(httpx_mock))["request_method"] == "POST"

    async def test_single_object_wrapped_in_data_is_unwrapped(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """GET lead answered as {"data": {...}} gives the lead itself."""
        httpx_mock.add_response(json={"data": {"uuid": "l1", "name": "Ann"}})
        lead = await client.leads.get("l1")
        assert (lead.uuid, lead.name) == ("l1", "Ann")

    @pytest.mark.parametrize(
        "item",
        [
            {
                "lead": {"uuid": "l1", "name": "Ann"},
                "markers": [],
                "flows": [],
                "custom_fields": {},
            },
            {"uuid": "l1", "name": "Ann"},
        ],
        ids=["wrapped", "flat"],
    )
    async def test_search_items_wrapped_or_flat_give_lead(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, item: dict[str, Any]
    ) -> None:
        """Lead search items expose .lead.uuid whether wrapped or flat (fact 20)."""
        httpx_mock.add_response(json={"data": [item], "total": 1, "has_more": False})
        leads = [lead async for lead in client.leads.search(filter={"q": "ann"})]
        assert len(leads) == 1 and isinstance(leads[0], LeadSearchResult)
        assert leads[0].lead is not None and not isinstance(leads[0].lead, Unset)
        assert (leads[0].lead.uuid, leads[0].lead.name) == ("l1", "Ann")

    @pytest.mark.parametrize(
        "item",
        [{"company": {"uuid": "c1"}, "markers": []}, {"uuid": "c1", "name": "Acme"}],
        ids=["wrapped", "flat"],
    )
    async def test_company_list_items_wrapped_or_flat_give_company(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, item: dict[str, Any]
    ) -> None:
        """Company list items expose .company.uuid whether wrapped or flat."""
        httpx_mock.add_response(json={"data": [item], "total": 1})
        companies = [c async for c in client.companies.list()]
        assert isinstance(companies[0], CompanySearchResult)
        assert not isinstance(companies[0].company, Unset) and companies[0].company.uuid == "c1"

    async def test_flow_metrics_map_is_parsed_as_a_map(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """flows/metrics answers a map keyed by flow uuid, not a list envelope (fact 22)."""
        httpx_mock.add_response(
            method="POST",
            url=BASE + "/flows/api/flows/metrics",
            json={"f1": {"in_progress": 3}, "f2": {}},
        )
        metrics = await client.flows.get_metrics(uuids=["f1", "f2"])
        assert isinstance(metrics, GetFlowMetricsResponse200)
        assert set(metrics.additional_keys) == {"f1", "f2"}
        assert isinstance(metrics["f1"], FlowMetrics)
        assert metrics["f1"].to_dict()["in_progress"] == 3
        assert body_of(only_request(httpx_mock)) == {"uuids": ["f1", "f2"]}

    async def test_flow_metrics_empty_list_is_an_empty_map(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """An empty map that arrives as [] parses as an empty map."""
        httpx_mock.add_response(json=[])
        metrics = await client.flows.get_metrics(uuids=["f1"])
        assert isinstance(metrics, GetFlowMetricsResponse200)
        assert metrics.additional_keys == []

    @pytest.mark.parametrize(
        ("payload", "expected"),
        [({"inbox": 4, "archived": 0}, {"inbox": 4, "archived": 0}), ([], {})],
        ids=["map", "empty-list"],
    )
    async def test_group_counts_map_or_empty_list(
        self,
        client: AsyncGetSales,
        httpx_mock: HTTPXMock,
        payload: Any,
        expected: dict[str, int],
    ) -> None:
        """linkedin-messages/group-counts is a map; [] means no groups."""
        httpx_mock.add_response(
            method="POST", url=BASE + "/flows/api/linkedin-messages/group-counts", json=payload
        )
        counts = await client.linkedin_messages.get_group_counts(
            group_field=next(iter(GetLinkedinMessageGroupCountsBodyGroupField))
        )
        assert isinstance(counts, GroupCounts)
        assert counts.to_dict() == expected

    async def test_group_counts_as_value_count_list_give_the_same_map(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """The {data: [{value, count}]} variant of group-counts reads as the same map (policy b)."""
        httpx_mock.add_response(
            json={"data": [{"value": "inbox", "count": 4}, {"value": "archived", "count": 0}]}
        )
        counts = await client.linkedin_messages.get_group_counts(
            group_field=next(iter(GetLinkedinMessageGroupCountsBodyGroupField))
        )
        assert counts.to_dict() == {"inbox": 4, "archived": 0}


class TestFiles:
    async def test_download_export_returns_csv_bytes(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """The export download is CSV bytes, not JSON (fact 32)."""
        csv_bytes = b"uuid,name\n1,Ann\n2,Bob\n"
        httpx_mock.add_response(
            method="POST",
            url=BASE + "/leads/api/file-exports/download",
            content=csv_bytes,
            headers={"content-type": "text/csv; charset=utf-8"},
        )
        data = await client.files.download_export(file_name="export-1.csv")
        assert data == csv_bytes
        assert body_of(only_request(httpx_mock)) == {"file_name": "export-1.csv"}

    @staticmethod
    def assert_multipart_csv(request: httpx.Request, csv_bytes: bytes) -> bytes:
        content_type = request.headers["content-type"]
        assert content_type.startswith("multipart/form-data; boundary=")
        assert "json" not in content_type
        boundary = content_type.split("boundary=")[1].encode()
        parts = [p for p in request.content.split(b"--" + boundary) if p.strip(b"-\r\n")]
        by_name = {re.search(rb'name="([^"]+)"', p).group(1): p for p in parts}  # type: ignore[union-attr]
        assert set(by_name) == {b"file", b"type"}
        assert by_name[b"type"].rstrip(b"\r\n").endswith(b"\r\n\r\ncsv_leads")
        assert csv_bytes in by_name[b"file"]
        return by_name[b"file"]

    async def test_upload_csv_sends_multipart_with_file_and_type(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """upload-csv sends multipart/form-data: a named file part and type=csv_leads (fact 32)."""
        csv_bytes = b"first_name,linkedin\nAnn,ann-lee\n"
        httpx_mock.add_response(
            method="POST", url=BASE + "/leads/api/file-imports/upload-csv", json={"uuid": "i1"}
        )
        result = await client.files.upload_csv(
            file=File(payload=io.BytesIO(csv_bytes), file_name="leads.csv", mime_type="text/csv"),
            type=UploadCsvBodyType.CSV_LEADS,
        )
        assert result.uuid == "i1"
        file_part = self.assert_multipart_csv(only_request(httpx_mock), csv_bytes)
        assert b'filename="leads.csv"' in file_part

    def test_file_type_is_public(self) -> None:
        """Users can build upload_csv's File without importing from _generated (STYLE 5)."""
        import getsales_async
        import getsales_async.models

        assert hasattr(getsales_async, "File") or "File" in getsales_async.models.__all__

    async def test_upload_csv_raw_bytes_are_sent_as_a_multipart_file_part(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Raw bytes are accepted too and go out as a multipart file part, never as JSON."""
        csv_bytes = b"first_name,linkedin\nAnn,ann-lee\n"
        httpx_mock.add_response(
            method="POST", url=BASE + "/leads/api/file-imports/upload-csv", json={"uuid": "i1"}
        )
        raw: Any = csv_bytes
        result = await client.files.upload_csv(file=raw, type=UploadCsvBodyType.CSV_LEADS)
        assert result.uuid == "i1"
        self.assert_multipart_csv(only_request(httpx_mock), csv_bytes)


class TestEmptyBodies:
    @pytest.mark.parametrize(
        ("path", "status", "call"),
        [
            (
                "/flows/api/linkedin-messages",
                200,
                lambda c: c.linkedin_messages.send(
                    sender_profile_uuid="s", lead_uuid="l", text="hi"
                ),
            ),
            ("/leads/api/tags", 201, lambda c: c.tags.create(name="vip")),
        ],
        ids=["send-message-200", "create-tag-201"],
    )
    async def test_empty_success_on_non_idempotent_op_raises_validation_error(
        self,
        client: AsyncGetSales,
        httpx_mock: HTTPXMock,
        path: str,
        status: int,
        call: Callable[[AsyncGetSales], Any],
    ) -> None:
        """An empty body where data was expected raises at once (a write is never repeated)."""
        httpx_mock.add_response(method="POST", url=BASE + path, status_code=status, content=b"")
        with pytest.raises(APIResponseValidationError) as info:
            await call(client)
        assert (info.value.status_code, info.value.method, info.value.path) == (
            status,
            "POST",
            path,
        )
        assert len(httpx_mock.get_requests()) == 1

    async def test_delete_with_empty_200_returns_none(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Operations without a declared body return None for an empty 200 as for a 204."""
        httpx_mock.add_response(method="DELETE", url=BASE + "/leads/api/data-sources/d1")
        assert await client.data_sources.delete("d1") is None

    async def test_create_answered_200_instead_of_201_is_still_parsed(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """lists.create declares 201; a 200 with the list must not silently become None."""
        httpx_mock.add_response(method="POST", url=BASE + "/leads/api/lists", json={"uuid": "x"})
        created = await client.lists.create(name="Prospects")
        assert created is not None and created.uuid == "x"


class TestArgumentsAndEscapeHatches:
    async def test_extra_body_fields_are_sent_unchanged(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """extra_body adds fields the spec does not know next to the declared ones."""
        httpx_mock.add_response(
            method="POST", url=BASE + "/leads/api/leads/upsert", json={"uuid": "l1"}
        )
        await client.leads.upsert(
            lead={"linkedin_id": "ann-lee", "first_name": "Ann"},
            list_uuid="list-1",
            custom_fields={"Source": "webinar"},
            extra_body={"lead_source": {"kind": "import", "batch": 7}, "dry_run": False},
        )
        body = body_of(only_request(httpx_mock))
        assert body["lead"] == {"linkedin_id": "ann-lee", "first_name": "Ann"}
        assert body["list_uuid"] == "list-1" and body["custom_fields"] == {"Source": "webinar"}
        assert body["lead_source"] == {"kind": "import", "batch": 7} and body["dry_run"] is False

    async def test_extra_body_on_paginated_search_is_sent_on_every_page(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """extra_body travels with each page request of a search."""
        httpx_mock.add_response(json={"data": [{"uuid": "a"}], "total": 2, "has_more": True})
        httpx_mock.add_response(json={"data": [{"uuid": "b"}], "total": 2, "has_more": False})
        items = await client.leads.search(page_size=1, extra_body={"search_after": None}).to_list()
        assert len(items) == 2
        assert all("search_after" in body_of(r) for r in httpx_mock.get_requests())

    async def test_extra_body_repeating_a_keyword_raises_before_sending(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """extra_body cannot override a declared field; nothing is sent."""
        with pytest.raises(ArgumentError, match="list_uuid"):
            await client.leads.upsert(
                lead={"linkedin_id": "a"}, list_uuid="l", extra_body={"list_uuid": "other"}
            )
        assert httpx_mock.get_requests() == []

    async def test_with_raw_response_returns_status_headers_and_parsed(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """with_raw_response gives the status, headers, parsed model and the httpx response."""
        httpx_mock.add_response(
            method="POST",
            url=BASE + "/leads/api/tags",
            status_code=201,
            json={"uuid": "t1", "name": "vip"},
            headers={"x-request-id": "req-7"},
        )
        raw = await client.tags.with_raw_response.create(name="vip", color="#ff0000")
        assert isinstance(raw, RawResponse)
        assert raw.status_code == 201 and raw.headers["x-request-id"] == "req-7"
        assert isinstance(raw.parsed, Tag) and raw.parsed.uuid == "t1"
        assert raw.http_response.status_code == 201 and raw.retries == 0

    async def test_with_raw_response_on_list_returns_one_raw_page(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """The raw twin of a paginated method fetches exactly the page asked for."""
        httpx_mock.add_response(json={"data": [{"uuid": "t1"}]})
        raw = await client.tags.with_raw_response.list(limit=5, offset=10)
        assert raw.status_code == 200 and [t.uuid for t in raw.parsed.data] == ["t1"]
        params = only_request(httpx_mock).url.params
        assert (params["limit"], params["offset"]) == ("5", "10")


class TestLenientModels:
    def test_unknown_enum_value_is_kept_as_unknown_member(self) -> None:
        """Enums are open: an unknown value becomes UNKNOWN and keeps the raw value."""
        event = WebhookEvent("contact_did_something_new")
        assert event.name == "UNKNOWN" and event.value == "contact_did_something_new"
        assert isinstance(event, WebhookEvent) and str(event) == "contact_did_something_new"
        assert OrderType("desc") is OrderType.DESC

    async def test_unknown_enum_value_is_sent_as_given(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A newer server event name can be used before the SDK knows it."""
        httpx_mock.add_response(
            status_code=201, json={"uuid": "w1", "event": "contact_did_something_new"}
        )
        webhook = await client.webhooks.create(
            name="new",
            event=WebhookEvent("contact_did_something_new"),
            target_url="https://h.example",
            request_method=WebhookRequestMethod("PATCH_LIKE"),
        )
        body = body_of(only_request(httpx_mock))
        assert (body["event"], body["request_method"]) == (
            "contact_did_something_new",
            "PATCH_LIKE",
        )
        assert webhook.event == "contact_did_something_new"

    async def test_unknown_fields_survive_in_additional_properties(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Fields the spec does not know stay on the model and in to_dict()."""
        httpx_mock.add_response(
            json={
                "uuid": "l1",
                "ai_score": {"fit": 0.9},
                "created_at": "2024-05-01T10:20:30.000000Z",
            }
        )
        lead = await client.leads.get("l1")
        assert lead.additional_properties["ai_score"] == {"fit": 0.9}
        assert lead.to_dict()["ai_score"] == {"fit": 0.9}
        assert isinstance(lead.created_at, datetime.datetime)
        assert lead.created_at.year == 2024

    async def test_unknown_values_in_response_strings_are_kept(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Message types the docs do not list (MEMBER_TO_MEMBER) parse and are kept."""
        httpx_mock.add_response(
            json={
                "data": [{"uuid": "m1", "linkedin_type": "MEMBER_TO_MEMBER", "brand_new": 1}],
                "total": 1,
            }
        )
        (message,) = await client.linkedin_messages.list().to_list()
        assert message.linkedin_type == "MEMBER_TO_MEMBER"
        assert message.additional_properties == {"brand_new": 1}


class TestParseFailures:
    @pytest.mark.parametrize(
        "content",
        [
            b"[" * 10_000 + b"]" * 10_000,
            b'{"uuid": "\xff\xfe"}',
            b"{not json",
            b"[1, 2]",
            b'"just a string"',
        ],
        ids=["nested-10000", "invalid-utf8", "not-json", "list-for-object", "string-for-object"],
    )
    async def test_any_parse_failure_is_a_validation_error(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, content: bytes
    ) -> None:
        """Decoding and model errors of every kind (RecursionError too) become one typed error."""
        httpx_mock.add_response(content=content, headers={"content-type": "application/json"})
        with pytest.raises(APIResponseValidationError) as info:
            await client.leads.get("l1")
        assert (info.value.status_code, info.value.method) == (200, "GET")
        assert info.value.path == "/leads/api/leads/l1"
