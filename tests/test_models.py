"""The generated models users read and build: response types, identifiers, maps, request sentinels.

What users read from a response is typed ``X | None`` (absent or null -> None) with a plain ``str``
or ``int`` identifier; request models keep ``UNSET`` (not given) apart from ``None`` (null);
map-shaped fields are mappings and read the API's ``[]`` as empty (issue 15 points 1 and 6).
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import pkgutil
import pydoc
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import pytest
import yaml
from pytest_httpx import HTTPXMock

from getsales_async import UNSET, APIResponseValidationError, AsyncGetSales, RateLimit, models
from getsales_async._generated.types import ResponseFieldError, Unset
from getsales_async.models import (
    ContactList,
    ContactSourceParam,
    FlowMetrics,
    FlowNodeStatistics,
    FlowNodeStatisticsNodeConversions,
    Lead,
    LeadMetrics,
    LeadMetricsCounts,
    LeadPage,
    Schedule,
    ScheduleParam,
    Team,
    TeamFeatures,
)
from getsales_async.testing import VirtualClock

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "codegen"))

import generate
from normalize import load_spec, normalize, pascal_case, schema_sides

BASE = "https://api.test"
MOCKED_TRANSPORT = httpx.AsyncHTTPTransport()


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def client() -> AsyncIterator[AsyncGetSales]:
    """A client on a fresh key, virtual time running by itself, HTTP mocked."""
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


def response_model_classes() -> list[type[Any]]:
    """Classes of the component schemas that only responses use (per the normalised spec)."""
    from getsales_async import models

    doc = normalize(load_spec(ROOT / "openapi" / "bundled.yaml"), [], lambda _m: None)
    request, _response = schema_sides(doc)
    names = sorted(set(doc["components"]["schemas"]) - request)
    classes = [getattr(models, pascal_case(n), None) for n in names]
    return [c for c in classes if isinstance(c, type) and hasattr(c, "from_dict")]


def models_reachable_from_results() -> set[str]:
    """Names of the models resource methods return, and of the models nested in those."""
    import getsales_async._resources as resources_package

    known = set(models.__all__)
    todo: set[str] = set()
    for module_info in pkgutil.iter_modules(resources_package.__path__):
        module = importlib.import_module(f"getsales_async._resources.{module_info.name}")
        for cls in vars(module).values():
            if isinstance(cls, type) and cls.__module__ == module.__name__:
                for fn in vars(cls).values():
                    annotation = getattr(fn, "__annotations__", {}).get("return", "")
                    todo |= set(re.findall(r"\b[A-Z]\w+", str(annotation))) & known
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        seen.add(name)
        for annotation in getattr(models, name).__annotations__.values():
            todo |= (set(re.findall(r"\b[A-Z]\w+", str(annotation))) & known) - seen
    return seen


class TestResponseFields:
    def test_absent_and_null_optional_fields_read_none(self) -> None:
        """An optional field the server leaves out or sends as null reads None."""
        lead = Lead.from_dict({"uuid": "l1", "name": None, "team_id": 7})
        assert (lead.name, lead.first_name, lead.experience, lead.team_id) == (None, None, None, 7)

    def test_null_nested_model_reads_none(self) -> None:
        """A nullable nested object sent as null reads None (it raised TypeError before)."""
        team = Team.from_dict({"id": 1, "features": None, "credits": {"llm": 5}})
        assert team.features is None
        assert team.credits_ is not None and team.credits_.llm == 5

    def test_nested_model_sent_as_empty_list_reads_as_empty_model(self) -> None:
        """PHP's `[]` for an empty object parses as an empty model, not a list."""
        team = Team.from_dict({"id": 1, "config": [], "features": []})
        assert isinstance(team.features, TeamFeatures) and team.features.to_dict() == {}

    def test_unknown_fields_are_kept(self) -> None:
        """Fields the spec does not know stay readable in additional_properties."""
        lead = Lead.from_dict({"uuid": "l1", "loyalty": 3})
        assert lead.additional_properties == {"loyalty": 3} and lead["loyalty"] == 3

    def test_to_dict_leaves_out_fields_that_are_none(self) -> None:
        """to_dict keeps what was sent and drops None (absent and null read the same)."""
        sent = {"uuid": "l1", "name": "Ann", "about": None, "x": 1}
        assert Lead.from_dict(sent).to_dict() == {"uuid": "l1", "name": "Ann", "x": 1}

    def test_defaults_are_none_so_models_build_from_the_identifier(self) -> None:
        """A response model can be built in tests from its identifier alone."""
        assert ContactList(uuid="c1").name is None

    def test_no_response_model_mentions_unset(self) -> None:
        """No field of a response-only model is typed with the request sentinel."""
        classes = response_model_classes()
        assert len(classes) > 60
        offenders = {
            cls.__name__: field
            for cls in classes
            for field, annotation in cls.__annotations__.items()
            if "Unset" in str(annotation)
        }
        assert offenders == {}

    def test_nothing_reachable_from_a_method_result_mentions_unset(self) -> None:
        """Every model a resource method returns, and every model nested in one, is Unset-free."""
        reachable = models_reachable_from_results()
        assert {"Lead", "LeadSearchResult", "LeadSearchResultFlowsItem", "FlowVersion"} <= reachable
        offenders = sorted(
            f"{name}.{field}"
            for name in reachable
            for field, annotation in getattr(models, name).__annotations__.items()
            if "Unset" in str(annotation)
        )
        assert offenders == []

    def test_page_parses_items_with_optional_fields(self) -> None:
        """A search page with sparse items parses; page meta absent reads None."""
        page = LeadPage.from_dict({"data": [{"lead": {"uuid": "l1"}}, {"lead": {"uuid": "l2"}}]})
        assert [item.lead.uuid for item in page.data] == ["l1", "l2"]
        assert page.total is None and page.has_more is None


class TestIdentifiers:
    @pytest.mark.parametrize(
        ("payload", "problem"),
        [({"name": "x"}, "missing"), ({"uuid": None}, "missing"), ({"uuid": 5}, "int value")],
        ids=["absent", "null", "wrong-type"],
    )
    def test_bad_uuid_raises_naming_model_and_field(
        self, payload: dict[str, Any], problem: str
    ) -> None:
        """A response object without a usable uuid fails with a message naming the field."""
        with pytest.raises(ResponseFieldError, match=rf"ContactList\.uuid .*{problem}") as info:
            ContactList.from_dict(payload)
        assert (info.value.model, info.value.field) == ("ContactList", "uuid")

    def test_integer_id_is_the_identifier_where_there_is_no_uuid(self) -> None:
        """Teams are identified by an integer id: required, and checked."""
        assert Team.from_dict({"id": 3}).id == 3
        with pytest.raises(ResponseFieldError, match=r"Team\.id"):
            Team.from_dict({"name": "x"})

    def test_identifier_in_a_nested_record_is_checked_too(self) -> None:
        """One search item without its contact's uuid fails the page with the field named."""
        with pytest.raises(ResponseFieldError, match=r"Lead\.uuid"):
            LeadPage.from_dict({"data": [{"lead": {"uuid": "l1"}}, {"lead": {"name": "x"}}]})

    @pytest.mark.anyio
    async def test_resource_method_reports_the_missing_identifier(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Through the client, a missing identifier is an APIResponseValidationError naming it."""
        httpx_mock.add_response(url=BASE + "/leads/api/lists/c1", json={"name": "CRM"})
        with pytest.raises(APIResponseValidationError, match=r"ContactList\.uuid") as info:
            await client.lists.get("c1")
        assert info.value.body == {"name": "CRM"}


class TestRequestSentinel:
    def test_unset_has_a_readable_repr(self) -> None:
        """UNSET prints as UNSET, in signatures and help() too, never as `<... object at 0x...>`."""
        from getsales_async._resources.tags import TagsResource

        assert repr(UNSET) == "UNSET" and not UNSET
        assert "= UNSET" in str(inspect.signature(TagsResource.create))
        rendered = pydoc.render_doc(TagsResource.create, renderer=pydoc.plaintext)
        assert "= UNSET" in rendered and "object at 0x" not in rendered

    def test_request_models_tell_not_given_from_null(self) -> None:
        """A request model omits what was not given and sends None as null."""
        source = ContactSourceParam(name=None, active_limit=5)
        assert isinstance(source.after_id, Unset)
        assert source.to_dict() == {"name": None, "active_limit": 5}


class TestSchemasOnBothSides:
    def test_response_and_request_variants_are_split(self) -> None:
        """`schedule` is read as Schedule (X | None) and sent as ScheduleParam (X | Unset)."""
        assert Schedule.from_dict({}).timezone is None
        assert "Unset" not in str(Schedule.__annotations__)
        assert "Unset" in str(ScheduleParam.__annotations__)

    @pytest.mark.anyio
    async def test_request_accepts_a_plain_mapping_for_the_request_variant(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """flows.create(schedule={...}) sends the mapping as given and reads a Schedule back."""
        schedule = {"timezone": "UTC", "timeblocks": [{"dow": 1, "min": 540, "max": 1020}]}
        httpx_mock.add_response(json={"uuid": "f1", "schedule": schedule})
        flow = await client.flows.create(name="Q1", schedule=schedule, use_sender_schedule=False)
        assert isinstance(flow.schedule, Schedule) and flow.schedule.timezone == "UTC"
        sent = json.loads(httpx_mock.get_requests()[0].content)
        assert sent["schedule"] == schedule


class TestMaps:
    def test_map_fields_are_mappings(self) -> None:
        """A map-shaped field is a read-only Mapping with the declared value type."""
        stats = FlowNodeStatistics.from_dict({"node_conversions": {"accepted": 3, "replied": 1}})
        conversions = stats.node_conversions
        assert isinstance(conversions, Mapping)
        assert isinstance(conversions, FlowNodeStatisticsNodeConversions)
        assert dict(conversions) == {"accepted": 3, "replied": 1}
        assert len(conversions) == 2 and "accepted" in conversions
        assert conversions.get("opened") is None

    @pytest.mark.parametrize("empty", [[], {}], ids=["list", "object"])
    def test_empty_list_reads_as_an_empty_mapping_at_any_depth(self, empty: Any) -> None:
        """`[]` for an empty map is `{}`: as a field, as a map value, and nested in a map value."""
        stats = FlowNodeStatistics.from_dict({"node_conversions": empty, "node_branches": empty})
        assert stats.node_conversions is not None and dict(stats.node_conversions) == {}
        metrics = LeadMetrics.from_dict({"total": empty, "metrics": {"u1": empty, "u2": {"x": 1}}})
        assert isinstance(metrics.total, LeadMetricsCounts)
        assert metrics.metrics is not None and isinstance(metrics.metrics["u1"], LeadMetricsCounts)
        assert metrics.metrics["u2"].to_dict() == {"x": 1}

    @pytest.mark.anyio
    @pytest.mark.parametrize("answer", [[], {}], ids=["list", "object"])
    async def test_node_statistics_empty_maps_through_the_client(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, answer: Any
    ) -> None:
        """get_node_statistics: `[]` at the top or inside a node is an empty mapping."""
        httpx_mock.add_response(
            json={"12": {"node_conversions": answer, "node_statuses": {"a": 2}}}
        )
        httpx_mock.add_response(json=answer)
        stats = await client.flows.get_node_statistics("f1", node_ids=[12])
        assert isinstance(stats, Mapping) and list(stats) == ["12"]
        node = stats["12"]
        assert node.node_conversions is not None and dict(node.node_conversions) == {}
        assert node.node_statuses is not None and node.node_statuses["a"] == 2
        empty = await client.flows.get_node_statistics("f1", node_ids=[12])
        assert isinstance(empty, Mapping) and len(empty) == 0

    def test_map_of_models_keeps_models(self) -> None:
        """A map whose values are models yields those models."""
        from getsales_async.models import GetFlowMetricsResponse200

        metrics = GetFlowMetricsResponse200.from_dict({"f1": {"leads_count": 2}})
        assert isinstance(metrics["f1"], FlowMetrics) and metrics["f1"].leads_count == 2
        assert metrics["f1"].task_counts is None


def nullable_enum_spec(doc: dict[str, Any]) -> dict[str, Any]:
    """The bundle rewritten with nullable enums as real bundles write them (issue 18)."""
    schemas = doc["components"]["schemas"]
    # response side: inline, null listed; component, nullable only; component, null listed
    schemas["team"]["properties"]["status"] = {
        "type": "string",
        "enum": ["active", None],
        "nullable": True,
    }
    schemas["lead-priority"] = {"type": "string", "enum": ["low", "high"], "nullable": True}
    schemas["lead-tier"] = {"type": "string", "enum": ["gold", "silver", None]}
    schemas["lead"]["properties"]["priority"] = {"$ref": "#/components/schemas/lead-priority"}
    schemas["lead"]["properties"]["tier"] = {"$ref": "#/components/schemas/lead-tier"}
    # request side: inline nullable only, inline null listed, a nullable component
    body = doc["paths"]["/leads/api/lists"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"]["properties"].update(
        {
            "visibility": {"type": "string", "enum": ["private", "shared"], "nullable": True},
            "kind": {"type": "string", "enum": ["static", None]},
            "priority": {"$ref": "#/components/schemas/lead-priority"},
        }
    )
    return doc


NULLABLE_ENUM_PROBE = """
import json
from _generated.models import CreateListBody, Lead, Team, TeamStatus

def show(value):
    return None if value is None else [type(value).__name__, value.name, value.value]

out = {}
for status in (None, "active", "suspended"):
    out[f"team {status}"] = show(Team.from_dict({"id": 1, "status": status}).status)
for field, value in (("priority", None), ("priority", "urgent"), ("tier", None), ("tier", "gold")):
    out[f"lead {field} {value}"] = show(getattr(Lead.from_dict({"uuid": "l1", field: value}), field))
out["absent"] = show(Lead.from_dict({"uuid": "l1"}).priority)
sent = {"name": "x", "visibility": None, "kind": None, "priority": None}
out["request null"] = CreateListBody.from_dict(sent).to_dict()
out["request values"] = CreateListBody.from_dict(
    {"name": "x", "visibility": "shared", "kind": "static", "priority": "high"}
).to_dict()
out["request unset"] = CreateListBody(name="x").to_dict()
out["status is TeamStatus"] = Team.from_dict({"id": 1, "status": "active"}).status is TeamStatus.ACTIVE
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Generate from the rewritten bundle once and push payloads through its models."""
    tmp = tmp_path_factory.mktemp("nullable-enums")
    doc = nullable_enum_spec(copy.deepcopy(load_spec(ROOT / "openapi" / "bundled.yaml")))
    spec = tmp / "spec.yaml"
    spec.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    generate.generate(tmp / "pkg", spec, docs=tmp / "operations.md", quiet=True)
    run = subprocess.run(
        [sys.executable, "-c", NULLABLE_ENUM_PROBE],
        cwd=tmp / "pkg",
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result: dict[str, Any] = json.loads(run.stdout)
    return result


class TestNullableEnums:
    def test_response_null_reads_none_whether_listed_or_not(self, probe: dict[str, Any]) -> None:
        """`null` for an enum (null listed, or only nullable; inline or component) is None."""
        assert probe["team None"] is None
        assert probe["lead priority None"] is None
        assert probe["lead tier None"] is None
        assert probe["absent"] is None

    def test_response_known_and_unknown_values_are_kept(self, probe: dict[str, Any]) -> None:
        """Known values are members; unknown ones stay readable (the enums are open)."""
        assert probe["team active"] == ["TeamStatus", "ACTIVE", "active"]
        assert probe["status is TeamStatus"] is True
        assert probe["team suspended"] == ["TeamStatus", "UNKNOWN", "suspended"]
        assert probe["lead priority urgent"] == ["LeadPriority", "UNKNOWN", "urgent"]
        assert probe["lead tier gold"] == ["LeadTier", "GOLD", "gold"]

    def test_request_side_sends_null_values_and_omits_unset(self, probe: dict[str, Any]) -> None:
        """A request model takes None (sent as null), members' values, and omits what was not given."""
        assert probe["request null"] == {
            "name": "x",
            "visibility": None,
            "kind": None,
            "priority": None,
        }
        assert probe["request values"] == {
            "name": "x",
            "visibility": "shared",
            "kind": "static",
            "priority": "high",
        }
        assert probe["request unset"] == {"name": "x"}
