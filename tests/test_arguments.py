"""Arguments: coerced to what the API takes and checked before any request (``_arguments.py``).

The path-parameter and filter-key checks run on every operation that has such a parameter,
driven from the generated operation table; nothing may reach the transport when a check fails.
"""

from __future__ import annotations

import datetime
import enum
import importlib
import inspect
import json
import typing
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from getsales_async import (
    ArgumentError,
    AsyncGetSales,
    PaginationWindowError,
    RateLimit,
    RequestOptions,
)
from getsales_async._arguments import (
    MAX_ARGUMENT_DEPTH,
    build_body,
    check_filter_keys,
    coerce_enum,
    coerce_model,
    to_jsonable,
)
from getsales_async._errors import APIStatusError
from getsales_async._resource import resolve_request_options
from getsales_async._resources import OPERATIONS, Operation
from getsales_async.models import ListListsFilter, OrderType, WebhookEvent
from getsales_async.testing import VirtualClock

from .test_resources import TYPE_NAMESPACE, minimal_value

BASE = "https://api.test"
pytestmark = pytest.mark.anyio
MOCKED_TRANSPORT = httpx.AsyncHTTPTransport()
SDK_PARAMETERS = {"extra_body", "request_options", "page_size", "start_offset", "concurrency"}
BAD_SEGMENTS = ("", ".", "..")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # argument checks only: the backends are covered by test_resources


@pytest.fixture
async def client() -> AsyncIterator[AsyncGetSales]:
    """A client on a fresh key, virtual time running by itself, mocked HTTP underneath."""
    clock = VirtualClock()
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


def raw_method(client: AsyncGetSales, op: Operation) -> Callable[..., Any]:
    """The raw `_name` method (one request, also for paginated operations)."""
    method: Callable[..., Any] = getattr(getattr(client, op.resource), f"_{op.method}")
    return method


def required_keywords(method: Callable[..., Any]) -> dict[str, Any]:
    """Minimal values for the method's required keyword arguments."""
    hints = typing.get_type_hints(method, localns=TYPE_NAMESPACE)
    return {
        name: minimal_value(hints[name])
        for name, param in inspect.signature(method).parameters.items()
        if param.kind is inspect.Parameter.KEYWORD_ONLY
        and param.default is inspect.Parameter.empty
        and name not in SDK_PARAMETERS
    }


def valid_path_value(op: Operation, index: int) -> Any:
    return 40 + index if op.path_params[index] == "id" else str(uuid.UUID(int=index + 1))


def ops_with(predicate: Callable[[Operation], bool]) -> list[str]:
    return sorted(op_id for op_id, op in OPERATIONS.items() if predicate(op))


def only_request(httpx_mock: HTTPXMock) -> httpx.Request:
    requests = httpx_mock.get_requests()
    assert len(requests) == 1, [str(r.url) for r in requests]
    return requests[0]


class TestPathParameters:
    @pytest.mark.parametrize("operation_id", ops_with(lambda op: bool(op.path_params)))
    async def test_dot_segments_and_empty_values_raise_before_sending(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, operation_id: str
    ) -> None:
        """'', '.' and '..' in any path parameter raise ArgumentError; no request is sent."""
        op = OPERATIONS[operation_id]
        method = raw_method(client, op)
        keywords = required_keywords(method)
        for position in range(len(op.path_params)):
            for bad in BAD_SEGMENTS:
                path = [valid_path_value(op, i) for i in range(len(op.path_params))]
                path[position] = bad
                with pytest.raises(ArgumentError, match="would change the request path"):
                    await method(*path, **keywords)
        assert httpx_mock.get_requests() == []

    def test_at_least_twenty_operations_take_path_parameters(self) -> None:
        """The table drives the check above: it names the operations with path parameters."""
        assert len(ops_with(lambda op: bool(op.path_params))) >= 20

    async def test_uuid_object_is_sent_as_its_string(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A uuid.UUID path parameter goes out as its canonical string."""
        value = uuid.UUID("12345678-1234-5678-1234-567812345678")
        httpx_mock.add_response(url=f"{BASE}/leads/api/lists/{value}", json={"uuid": str(value)})
        contact_list = await client.lists.get(value)
        assert contact_list.uuid == str(value)

    async def test_slash_inside_a_value_stays_in_its_segment(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A value with '..' inside a longer string is percent-encoded, not refused."""
        httpx_mock.add_response(json={"uuid": "x"})
        await client.lists.get("../x")
        assert only_request(httpx_mock).url.raw_path == b"/leads/api/lists/..%2Fx"

    async def test_non_string_value_raises(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """None (or another object) is refused instead of being sent as 'None'."""
        value: Any = None
        with pytest.raises(ArgumentError, match="must be a string"):
            await client.lists.get(value)
        assert httpx_mock.get_requests() == []


def resource_class(attribute: str) -> type[Any]:
    """The generated resource class behind ``client.<attribute>``."""
    module = importlib.import_module(f"getsales_async._resources.{attribute}")
    name = next(n for n in module.__all__ if not n.endswith("WithRawResponse"))
    cls: type[Any] = getattr(module, name)
    return cls


def takes_filter(op: Operation) -> bool:
    """A GET operation with a deepObject ``filter`` query object."""
    method = getattr(resource_class(op.resource), f"_{op.method}")
    return op.http_method == "GET" and "filter" in inspect.signature(method).parameters


class TestFilterKeys:
    @pytest.mark.parametrize("operation_id", ops_with(takes_filter))
    @pytest.mark.parametrize("key", ["status]", "a[b", "created_at][>="])
    async def test_bracket_in_a_filter_key_raises_before_sending(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, operation_id: str, key: str
    ) -> None:
        """A '[' or ']' in a deepObject filter key raises ArgumentError; nothing is sent."""
        op = OPERATIONS[operation_id]
        method = raw_method(client, op)
        keywords = required_keywords(method)
        filter_value = dict(keywords.get("filter") or {})
        filter_value[key] = "x"
        keywords["filter"] = filter_value
        path = [valid_path_value(op, i) for i in range(len(op.path_params))]
        with pytest.raises(ArgumentError, match=r"contains '\[' or '\]'"):
            await method(*path, **keywords)
        assert httpx_mock.get_requests() == []

    def test_nested_operator_keys_are_checked_too(self) -> None:
        """Keys of operator maps and of mappings inside lists are checked."""
        with pytest.raises(ArgumentError):
            check_filter_keys("filter", {"created_at": {">=]": "2024-01-01"}})
        with pytest.raises(ArgumentError):
            check_filter_keys("filter", {"any": [{"x[": 1}]})
        check_filter_keys("filter", {"created_at": {">=": "2024-01-01"}, "status": ["a]"]})

    async def test_bracket_key_in_a_model_is_refused_too(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A filter model whose extra keys hold brackets is refused like a mapping."""
        model = ListListsFilter.from_dict({"name]": "x"})
        with pytest.raises(ArgumentError, match="filter key 'name]'"):
            await client.lists.with_raw_response.list(filter=model)
        assert httpx_mock.get_requests() == []

    async def test_plain_keys_values_and_operators_are_encoded(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Valid filters go out in bracket form; UUIDs and datetimes become strings."""
        httpx_mock.add_response(json={"data": []})
        ident = uuid.UUID(int=7)
        since = datetime.datetime(2024, 5, 1, 10, 0, tzinfo=datetime.UTC)
        await client.lists.with_raw_response.list(
            filter={"uuids": [ident], "created_at": {">=": since}, "name": "[brackets] in a value"}
        )
        params = only_request(httpx_mock).url.params
        assert params.get_list("filter[uuids][]") == [str(ident)]
        assert params["filter[created_at][>=]"] == "2024-05-01T10:00:00+00:00"
        assert params["filter[name]"] == "[brackets] in a value"


class TestValuesUsersHold:
    async def test_uuid_objects_in_a_body_are_sent_as_strings(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """UUIDs in body fields, lists and extra_body never reach json as UUID objects."""
        httpx_mock.add_response(json={"uuid": "l1"})
        list_uuid, tag = uuid.UUID(int=1), uuid.UUID(int=2)
        await client.leads.upsert(
            lead={"linkedin_id": "ann", "tags": [tag]},
            list_uuid=list_uuid,
            extra_body={"source_uuid": tag},
        )
        body = json.loads(only_request(httpx_mock).content)
        assert body["list_uuid"] == str(list_uuid) and body["source_uuid"] == str(tag)
        assert body["lead"]["tags"] == [str(tag)]

    async def test_uuid_list_argument_is_sent_as_strings(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A `uuids` list may hold UUID objects."""
        httpx_mock.add_response(json={})
        await client.flows.get_metrics(uuids=[uuid.UUID(int=3), "f2"])
        assert json.loads(only_request(httpx_mock).content) == {
            "uuids": [str(uuid.UUID(int=3)), "f2"]
        }

    async def test_date_argument_is_sent_in_iso_format(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A datetime.date query argument goes out as YYYY-MM-DD."""
        httpx_mock.add_response(json={})
        await client.tasks.get_schedule(
            sender_profile_uuid=uuid.UUID(int=5), date=datetime.date(2024, 2, 29)
        )
        params = only_request(httpx_mock).url.params
        assert (params["date"], params["sender_profile_uuid"]) == (
            "2024-02-29",
            str(uuid.UUID(int=5)),
        )

    async def test_enum_member_or_its_value_are_both_accepted(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """order_type takes OrderType.DESC or "desc"; an unknown string raises before sending."""
        httpx_mock.add_response(json={"data": []}, is_reusable=True)
        await client.lists.with_raw_response.list(order_type=OrderType.DESC)
        await client.lists.with_raw_response.list(order_type="desc")
        assert [r.url.params["order_type"] for r in httpx_mock.get_requests()] == ["desc"] * 2
        bad: Any = "sideways"
        with pytest.raises(ArgumentError, match="not a valid OrderType"):
            await client.lists.with_raw_response.list(order_type=bad)
        assert len(httpx_mock.get_requests()) == 2

    def test_to_jsonable_converts_what_json_cannot(self) -> None:
        """UUIDs, enums, dates and models become JSON values; UNSET entries are dropped."""
        from getsales_async import UNSET

        value = {
            "id": uuid.UUID(int=1),
            "event": WebhookEvent("contact_replied_email"),
            "at": datetime.date(2024, 1, 2),
            "skip": UNSET,
            "nested": ({"when": datetime.time(9, 30)},),
            "filter": ListListsFilter.from_dict({"name": "x"}),
        }
        assert json.loads(json.dumps(to_jsonable(value))) == {
            "id": str(uuid.UUID(int=1)),
            "event": "contact_replied_email",
            "at": "2024-01-02",
            "nested": [{"when": "09:30:00"}],
            "filter": {"name": "x"},
        }

    def test_self_containing_argument_raises_instead_of_recursing_forever(self) -> None:
        """A mapping that contains itself fails with ArgumentError at a bounded depth."""
        loop: dict[str, Any] = {}
        loop["again"] = loop
        with pytest.raises(ArgumentError, match=f"deeper than {MAX_ARGUMENT_DEPTH}"):
            to_jsonable(loop)
        with pytest.raises(ArgumentError):
            check_filter_keys("filter", loop)

    def test_coerce_enum_keeps_members(self) -> None:
        """A member passes through unchanged; its value becomes the member."""

        class Colour(enum.Enum):
            RED = "red"

        assert coerce_enum(Colour, Colour.RED) is Colour.RED
        assert coerce_enum(Colour, "red") is Colour.RED


class TestRequestOptions:
    async def test_dict_request_options_apply(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """request_options given as a dict work like RequestOptions (max_retries=0: one try)."""
        httpx_mock.add_response(status_code=503)
        with pytest.raises(APIStatusError):
            await client.lists.get("l1", request_options={"max_retries": 0})
        assert len(httpx_mock.get_requests()) == 1

    async def test_request_options_object_still_works(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """RequestOptions instances are accepted as before."""
        httpx_mock.add_response(json={"uuid": "l1"})
        await client.lists.get("l1", request_options=RequestOptions(timeout=5.0))
        assert only_request(httpx_mock).extensions["timeout"]["read"] == 5.0

    async def test_unknown_request_option_raises_before_sending(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A misspelt key is an ArgumentError naming the valid keys."""
        options: Any = {"timout": 5}
        with pytest.raises(ArgumentError, match="timout"):
            await client.lists.get("l1", request_options=options)
        assert httpx_mock.get_requests() == []


class TestRequiredAlternatives:
    @pytest.mark.parametrize(
        "operation_id", ops_with(lambda op: bool(op.require_any_of or op.require_one_of))
    )
    async def test_call_without_any_group_raises_before_sending(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, operation_id: str
    ) -> None:
        """Every operation with spec-declared alternatives checks them locally."""
        op = OPERATIONS[operation_id]
        method = raw_method(client, op)
        path = [valid_path_value(op, i) for i in range(len(op.path_params))]
        with pytest.raises(ArgumentError, match="one of"):
            await method(*path, **required_keywords(method))
        assert httpx_mock.get_requests() == []

    def test_alternatives_come_from_the_spec(self) -> None:
        """The index's "provide at least one of" operations carry their groups."""
        assert OPERATIONS["lookupOneLead"].require_any_of == (
            ("linkedin_id",),
            ("email",),
            ("name", "company_name"),
        )
        assert OPERATIONS["setBrowserProxy"].require_one_of == (
            ("proxy_country_code",),
            ("custom_proxy_config",),
        )

    async def test_one_of_refuses_two_groups(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """set_proxy takes a GetSales proxy country or a custom proxy, not both."""
        with pytest.raises(ArgumentError, match="exactly one of"):
            await client.linkedin_browsers.set_proxy(
                7, proxy_country_code="DE", custom_proxy_config={"host": "p.example"}
            )
        assert httpx_mock.get_requests() == []

    async def test_one_of_sends_a_single_group(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """With exactly one group given, the call goes out."""
        httpx_mock.add_response(json={})
        await client.linkedin_browsers.set_proxy(7, proxy_country_code="DE")
        assert json.loads(only_request(httpx_mock).content) == {"proxy_country_code": "DE"}

    async def test_empty_string_does_not_count_as_given(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """An identifier given as '' (or None) does not satisfy the rule."""
        with pytest.raises(ArgumentError, match="at least one of"):
            await client.companies.lookup(domain="", name=None)
        assert httpx_mock.get_requests() == []

    async def test_extra_body_can_satisfy_the_rule(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """The check reads the built body, so an identifier passed in extra_body counts."""
        httpx_mock.add_response(json={"uuid": "c1"})
        await client.blacklist.add_company(extra_body={"domain": "acme.example"})
        assert json.loads(only_request(httpx_mock).content) == {"domain": "acme.example"}


class TestOptionalBody:
    async def test_delete_without_body_arguments_sends_no_body(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """mailboxes.delete(uuid) sends no body and no JSON content type (the body is optional)."""
        httpx_mock.add_response(method="DELETE", status_code=204)
        assert await client.mailboxes.delete("m1") is None
        request = only_request(httpx_mock)
        assert request.content == b""
        assert "content-type" not in request.headers

    async def test_delete_with_a_body_argument_sends_it(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Giving a body field sends the body as JSON."""
        httpx_mock.add_response(method="DELETE", status_code=204)
        await client.mailboxes.delete("m1", automation_reassign_mailboxes=False)
        request = only_request(httpx_mock)
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.content) == {"automation_reassign_mailboxes": False}

    async def test_body_missing_a_field_it_requires_raises(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Once a body is sent, its required fields are required: a clear local error."""
        with pytest.raises(ArgumentError, match="automation_reassign_mailboxes"):
            await client.mailboxes.delete("m1", automation_mailbox_to_reassign="m2")
        assert httpx_mock.get_requests() == []


class TestRequiredFilter:
    async def test_pipeline_stages_filter_needs_object(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """pipeline_stages.list needs filter[object] (lead or company): checked locally."""
        with pytest.raises(ArgumentError, match="'object'"):
            await client.pipeline_stages.list(filter={"type": "custom"}).to_list()
        assert httpx_mock.get_requests() == []

    def test_pipeline_stages_filter_is_a_required_keyword(self) -> None:
        """The signature makes the filter required (a type checker flags a call without it)."""
        from getsales_async._resources.pipeline_stages import PipelineStagesResource

        param = inspect.signature(PipelineStagesResource.list).parameters["filter"]
        assert param.default is inspect.Parameter.empty

    async def test_pipeline_stages_filter_is_sent_in_bracket_form(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """filter={"object": "company"} goes out as filter[object]=company."""
        httpx_mock.add_response(json={"data": []})
        await client.pipeline_stages.list(filter={"object": "company"}).to_list()
        assert only_request(httpx_mock).url.params["filter[object]"] == "company"


class TestSearchWindow:
    async def test_page_past_the_window_raises_before_sending(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """offset + limit beyond 10,000 on a search raises PaginationWindowError locally."""
        with pytest.raises(PaginationWindowError):
            await client.leads.with_raw_response.search(offset=9_950, limit=100)
        assert httpx_mock.get_requests() == []

    async def test_last_page_inside_the_window_is_sent(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """offset + limit == 10,000 is still allowed."""
        httpx_mock.add_response(json={"data": [], "total": 0})
        await client.leads.with_raw_response.search(offset=9_900, limit=100)
        assert json.loads(only_request(httpx_mock).content)["offset"] == 9_900


class _StrictModel:
    """A stand-in generated model whose from_dict rejects a value the way a date field would."""

    @classmethod
    def from_dict(cls, src: dict[str, Any]) -> _StrictModel:
        if "when" not in src:
            raise KeyError("when")
        if src["when"] != "2024-01-01":
            raise ValueError(f"Invalid isoformat string: {src['when']!r}")
        return cls()


class TestCoercionErrors:
    def test_missing_field_names_it(self) -> None:
        """A mapping without a field the model requires names that field."""
        with pytest.raises(ArgumentError, match="needs the field 'when'"):
            coerce_model(_StrictModel, {}, name="filter")

    def test_invalid_value_says_why(self) -> None:
        """A value the model rejects gives the model's reason, as an ArgumentError."""
        with pytest.raises(ArgumentError, match="Invalid isoformat string"):
            build_body(_StrictModel, {"when": "soon"}, None)

    def test_neither_model_nor_mapping_is_refused(self) -> None:
        """Another type for a model-typed parameter is refused with the expected types."""
        value: Any = 5
        with pytest.raises(ArgumentError, match="must be a _StrictModel or a mapping, got int"):
            coerce_model(_StrictModel, value, name="filter")

    def test_request_options_of_another_type_is_refused(self) -> None:
        """request_options must be RequestOptions, a dict or None."""
        value: Any = 5
        with pytest.raises(ArgumentError, match="RequestOptions or a dict"):
            resolve_request_options(value)

    def test_optional_body_with_nothing_given_is_unset(self) -> None:
        """An optional body with no field and no extra_body is not built at all."""
        from getsales_async import UNSET

        assert build_body(_StrictModel, {}, {}, optional=True) is UNSET
        assert isinstance(build_body(_StrictModel, {"when": "2024-01-01"}, None), _StrictModel)
