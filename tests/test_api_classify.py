"""Classifying one raw API diff for SDK users: the rules of codegen/api_classify.py as a table."""

from __future__ import annotations

import copy
import sys
from typing import Any

import pytest

from .api_change_sample import small_pair
from .conftest import ROOT

sys.path.insert(0, str(ROOT / "codegen"))

from api_classify import Finding, classify, locate, model_name

OLD, NEW = small_pair()
BODY = ("paths", "/things", "post", "requestBody", "content", "application/json", "schema")
RESP = ("paths", "/things", "get", "responses", "200", "content", "application/json", "schema")
LIST = ("paths", "/things", "get")


def name(op: dict[str, Any]) -> str:
    """SDK method names for the tests: the operationId under ``client.things``."""
    return f"client.things.{op.get('operationId', 'unnamed')}"


def one(
    path: tuple[Any, ...],
    action: str,
    before: Any = None,
    after: Any = None,
    *,
    old: dict[str, Any] = OLD,
    new: dict[str, Any] = NEW,
) -> tuple[str, str, str]:
    """The single finding of one diff, as (level, subject, message)."""
    found = classify(path, action, before, after, old, new, name)
    assert len(found) == 1, found
    return found[0].level, found[0].subject, found[0].message


def inline_body_docs() -> tuple[dict[str, Any], dict[str, Any]]:
    """OLD/NEW with createThing's body written inline (no component), for argument names."""
    docs = []
    for doc in (OLD, NEW):
        doc = copy.deepcopy(doc)
        body = doc["paths"]["/things"]["post"]["requestBody"]["content"]["application/json"]
        body["schema"] = copy.deepcopy(doc["components"]["schemas"]["thing-input"])
        body["schema"]["properties"]["owner"] = {
            "type": "object",
            "properties": {"emails": {"type": "array", "items": {"type": "string"}}},
        }
        docs.append(doc)
    return docs[0], docs[1]


class TestOperations:
    def test_removed_operation_is_breaking(self) -> None:
        """An operation that disappears removes its SDK method."""
        got = one(("paths", "/gadgets", "get"), "remove", {"operationId": "listGadgets"})
        assert got == (
            "breaking",
            "client.things.listGadgets()",
            "operation removed (GET /gadgets)",
        )

    def test_added_operation_is_non_breaking(self) -> None:
        """A new operation only adds a method."""
        new = copy.deepcopy(NEW)
        new["paths"]["/extra"] = {"put": {"operationId": "putExtra"}}
        got = one(("paths", "/extra", "put"), "add", None, {"operationId": "putExtra"}, new=new)
        assert got == ("non-breaking", "client.things.putExtra()", "operation added (PUT /extra)")

    def test_removed_path_item_reports_each_of_its_operations(self) -> None:
        """A whole path removed at once gives one breaking finding per method it held."""
        item = OLD["paths"]["/gadgets"]
        found = classify(("paths", "/gadgets"), "remove", item, None, OLD, NEW, name)
        assert [(f.level, f.subject) for f in found] == [
            ("breaking", "client.things.listGadgets()"),
            ("breaking", "client.things.addGadget()"),
        ]

    def test_renamed_operation_id_renames_the_method(self) -> None:
        """A new operationId is a new method name: breaking, named by the old method."""
        path = ("paths", "/things/{id}", "delete", "operationId")
        got = one(path, "replace", "deleteThing", "removeThing")
        assert got == (
            "breaking",
            "client.things.deleteThing()",
            "method renamed to `client.things.removeThing()`",
        )

    def test_rename_that_keeps_the_method_name_is_docs_only(self) -> None:
        """When overrides keep the SDK name, a changed operationId breaks nobody."""
        path = ("paths", "/things/{id}", "delete", "operationId")
        found = classify(path, "replace", "a", "b", OLD, NEW, lambda _op: "client.things.remove")
        assert [f.level for f in found] == ["docs"]

    def test_summary_change_is_docs_only(self) -> None:
        """Text-only changes imply at most a patch release."""
        got = one((*LIST, "summary"), "replace", "List", "List things")
        assert got == ("docs", "client.things.listThings()", "documentation changed")

    def test_findings_carry_the_operation_they_were_found_in(self) -> None:
        """Grouping by operation needs every finding inside an operation to name it."""
        found = classify((*RESP, "properties", "extra"), "add", None, {}, OLD, NEW, name)
        assert found == [
            Finding(
                "non-breaking", "Thing.extra", "response field added", "client.things.listThings()"
            )
        ]


class TestParameters:
    @pytest.mark.parametrize(
        ("index", "action", "value", "expected"),
        [
            (0, "remove", {"name": "limit", "in": "query"}, ("breaking", "parameter removed")),
            (
                3,
                "add",
                {"name": "n", "in": "query", "required": True},
                ("breaking", "required parameter added"),
            ),
            (4, "add", {"name": "n", "in": "query"}, ("non-breaking", "optional parameter added")),
        ],
    )
    def test_parameter_added_or_removed(
        self, index: int, action: str, value: dict[str, Any], expected: tuple[str, str]
    ) -> None:
        """Parameters are keyword arguments: removing one or adding a required one breaks calls."""
        before, after = (value, None) if action == "remove" else (None, value)
        level, subject, message = one((*LIST, "parameters", index), action, before, after)
        assert (level, message) == expected
        assert subject == f"client.things.listThings({value['name']})"

    def test_parameter_newly_required_is_breaking(self) -> None:
        """Calls that omitted the parameter now fail."""
        got = one((*LIST, "parameters", 1, "required"), "add", None, True)
        assert got == ("breaking", "client.things.listThings(q)", "parameter is now required")

    def test_parameter_no_longer_required_is_non_breaking(self) -> None:
        """Relaxing a parameter keeps every call working."""
        got = one((*LIST, "parameters", 1, "required"), "remove", True, None)
        assert got == ("non-breaking", "client.things.listThings(q)", "parameter is now optional")

    def test_renamed_path_parameter_breaks_keyword_callers(self) -> None:
        """The differ matches a renamed path parameter by position; its argument name changes."""
        path = ("paths", "/things/{id}", "delete", "parameters", 0, "name")
        got = one(path, "replace", "id", "thingId", new=OLD)
        assert got == (
            "breaking",
            "client.things.deleteThing(id)",
            "path parameter renamed to `thingId`",
        )

    def test_renamed_path_template_keeps_the_methods(self) -> None:
        """A new path template is reported per method at that path, as non-breaking."""
        new = copy.deepcopy(OLD)
        new["paths"]["/things/{thingId}"] = new["paths"].pop("/things/{id}")
        found = classify(("paths",), "rename", "/things/{id}", "/things/{thingId}", OLD, new, name)
        assert found == [
            Finding(
                "non-breaking",
                "client.things.deleteThing()",
                "path changed: `/things/{id}` → `/things/{thingId}`",
                "client.things.deleteThing()",
            )
        ]

    def test_parameter_enum_value_removed_is_breaking(self) -> None:
        """A request value that is no longer accepted breaks callers that send it."""
        got = one((*LIST, "parameters", 2, "schema", "enum", 1), "remove", "b")
        assert got == (
            "breaking",
            "client.things.listThings(mode)",
            "request enum value `b` removed",
        )


class TestRequestBody:
    @pytest.mark.parametrize(
        ("tail", "action", "before", "after", "expected"),
        [
            (
                ("properties", "note"),
                "remove",
                {},
                None,
                ("breaking", "ThingInput.note", "request field removed"),
            ),
            (
                ("properties", "shape"),
                "add",
                None,
                {},
                ("breaking", "ThingInput.shape", "required request field added"),
            ),
            (
                ("properties", "color"),
                "add",
                None,
                {},
                ("non-breaking", "ThingInput.color", "optional request field added"),
            ),
            (
                ("required", 0),
                "remove",
                "name",
                None,
                ("non-breaking", "ThingInput.name", "request field is now optional"),
            ),
            (
                ("properties", "size", "type"),
                "replace",
                "number",
                "integer",
                ("breaking", "ThingInput.size", "request type changed: `number` → `integer`"),
            ),
            (
                ("properties", "size", "type"),
                "replace",
                "integer",
                "number",
                ("non-breaking", "ThingInput.size", "request type changed: `integer` → `number`"),
            ),
            (
                ("properties", "kind", "enum", 2),
                "add",
                None,
                "z",
                ("non-breaking", "ThingInput.kind", "request enum value `z` added"),
            ),
            (
                ("properties", "kind", "enum", 0),
                "remove",
                "x",
                None,
                ("breaking", "ThingInput.kind", "request enum value `x` removed"),
            ),
            (
                ("properties", "kind", "enum"),
                "add",
                None,
                ["x"],
                ("breaking", "ThingInput.kind", "request values restricted to an enum"),
            ),
            (
                ("properties", "size", "enum", 0),
                "add",
                None,
                1,
                ("breaking", "ThingInput.size", "request values restricted to an enum"),
            ),
            (
                ("properties", "note", "nullable"),
                "remove",
                True,
                None,
                ("breaking", "ThingInput.note", "request value no longer accepts null"),
            ),
            (
                ("properties", "note", "nullable"),
                "add",
                None,
                True,
                ("non-breaking", "ThingInput.note", "request value now accepts null"),
            ),
            (
                ("properties", "name", "maxLength"),
                "replace",
                100,
                50,
                ("breaking", "ThingInput.name", "request `maxLength` changed: `100` → `50`"),
            ),
            (
                ("properties", "name", "maxLength"),
                "replace",
                100,
                200,
                ("non-breaking", "ThingInput.name", "request `maxLength` changed: `100` → `200`"),
            ),
            (
                ("properties", "name", "pattern"),
                "add",
                None,
                "^a",
                ("breaking", "ThingInput.name", "request `pattern` changed: (none) → `^a`"),
            ),
            (
                ("properties", "size", "default"),
                "add",
                None,
                1,
                ("non-breaking", "ThingInput.size", "request default changed: (none) → `1`"),
            ),
            (
                ("additionalProperties",),
                "add",
                None,
                False,
                ("breaking", "ThingInput", "request extra fields no longer accepted"),
            ),
            (
                ("properties", "size", "oneOf", 1),
                "remove",
                {},
                None,
                ("breaking", "ThingInput.size", "request accepts one shape fewer"),
            ),
            (
                ("properties", "size", "oneOf", 1),
                "add",
                None,
                {},
                ("non-breaking", "ThingInput.size", "request accepts another shape"),
            ),
            (
                ("properties", "name", "description"),
                "replace",
                "a",
                "b",
                ("docs", "ThingInput.name", "documentation changed"),
            ),
        ],
    )
    def test_body_change(
        self,
        tail: tuple[Any, ...],
        action: str,
        before: Any,
        after: Any,
        expected: tuple[str, str, str],
    ) -> None:
        """Each kind of request-body change gets the level an SDK user would give it."""
        assert one((*BODY, *tail), action, before, after) == expected

    def test_existing_field_newly_required_is_breaking(self) -> None:
        """A field the old schema had but did not require becomes a required argument."""
        got = one((*BODY, "required", 1), "add", None, "size")
        assert got == ("breaking", "ThingInput.size", "request field is now required")

    def test_new_required_field_is_reported_once_by_its_property(self) -> None:
        """The differ reports a new required field twice; the `required` entry adds nothing."""
        assert classify((*BODY, "required", 1), "add", None, "shape", OLD, NEW, name) == []

    def test_inline_body_fields_are_named_as_arguments(self) -> None:
        """Fields of an inline body are keyword arguments of the method; nested ones dotted."""
        old, new = inline_body_docs()
        top = one((*BODY, "properties", "note"), "remove", {}, None, old=old, new=new)
        assert top[1] == "client.things.createThing(note)"
        nested = (*BODY, "properties", "owner", "properties", "emails", "items", "type")
        got = one(nested, "replace", "string", "integer", old=old, new=new)
        assert got[1] == "client.things.createThing(owner.emails[])"

    @pytest.mark.parametrize(
        ("tail", "action", "after", "expected"),
        [
            ((), "remove", None, ("breaking", "request body removed")),
            ((), "add", {"required": True}, ("breaking", "required request body added")),
            ((), "add", {"required": False}, ("non-breaking", "optional request body added")),
            (("required",), "add", True, ("breaking", "request body is now required")),
            (
                ("content", "text/csv"),
                "remove",
                None,
                ("breaking", "request body no longer accepts `text/csv`"),
            ),
            (
                ("content", "text/csv"),
                "add",
                {},
                ("non-breaking", "request body also accepts `text/csv`"),
            ),
        ],
    )
    def test_body_itself(
        self, tail: tuple[Any, ...], action: str, after: Any, expected: tuple[str, str]
    ) -> None:
        """Adding a required body or dropping one (or a media type) changes every call."""
        before = {} if action == "remove" else None
        path = ("paths", "/things", "post", "requestBody", *tail)
        level, subject, message = one(path, action, before, after)
        assert (level, message) == expected
        assert subject == "client.things.createThing()"


class TestResponse:
    @pytest.mark.parametrize(
        ("tail", "action", "before", "after", "expected"),
        [
            (
                ("properties", "name"),
                "remove",
                {},
                None,
                ("breaking", "Thing.name", "response field removed"),
            ),
            (
                ("properties", "extra"),
                "add",
                None,
                {},
                ("non-breaking", "Thing.extra", "response field added"),
            ),
            (
                ("properties", "id", "type"),
                "replace",
                "string",
                "integer",
                ("breaking", "Thing.id", "response type changed: `string` → `integer`"),
            ),
            (
                ("properties", "score", "type"),
                "replace",
                "number",
                "integer",
                ("non-breaking", "Thing.score", "response type changed: `number` → `integer`"),
            ),
            (
                ("properties", "id", "nullable"),
                "add",
                None,
                True,
                ("breaking", "Thing.id", "response value may now be null"),
            ),
            (
                ("properties", "name", "nullable"),
                "remove",
                True,
                None,
                ("non-breaking", "Thing.name", "response value is no longer null"),
            ),
            (
                ("properties", "state", "enum", 2),
                "add",
                None,
                "standby",
                (
                    "non-breaking",
                    "Thing.state",
                    "response enum value `standby` added; response enums are open",
                ),
            ),
            (
                ("properties", "state", "enum", 1),
                "remove",
                "off",
                None,
                ("breaking", "Thing.state", "response enum value `off` removed"),
            ),
            (
                ("properties", "state", "enum"),
                "remove",
                ["on"],
                None,
                ("breaking", "Thing.state", "response values no longer an enum"),
            ),
            (
                ("required", 0),
                "remove",
                "id",
                None,
                ("breaking", "Thing.id", "response field may now be absent"),
            ),
            (
                ("required", 0),
                "add",
                None,
                "id",
                ("non-breaking", "Thing.id", "response field is now always present"),
            ),
            (
                ("properties", "id", "oneOf", 1),
                "add",
                None,
                {},
                ("breaking", "Thing.id", "response may return another shape"),
            ),
            (
                ("properties", "seen_at", "format"),
                "add",
                None,
                "date-time",
                ("breaking", "Thing.seen_at", "response format changed: (none) → `date-time`"),
            ),
            (
                ("properties", "id", "format"),
                "add",
                None,
                "email",
                ("docs", "Thing.id", "response format changed: (none) → `email`"),
            ),
            (
                ("properties", "id", "maxLength"),
                "add",
                None,
                3,
                ("docs", "Thing.id", "response `maxLength` changed: (none) → `3`"),
            ),
            (
                ("properties", "id", "allOf", 0),
                "add",
                None,
                {},
                ("breaking", "Thing.id", "response schema restructured (`allOf` added)"),
            ),
        ],
    )
    def test_success_body_change(
        self,
        tail: tuple[Any, ...],
        action: str,
        before: Any,
        after: Any,
        expected: tuple[str, str, str],
    ) -> None:
        """Each kind of response change gets the level an SDK user would give it."""
        assert one((*RESP, *tail), action, before, after) == expected

    def test_success_response_removed_is_breaking(self) -> None:
        """The method's return type came from that response."""
        path = ("paths", "/things", "post", "responses", "201")
        got = one(path, "remove", {}, None)
        assert got == ("breaking", "client.things.createThing()", "success response `201` removed")

    def test_error_response_changes_are_non_breaking(self) -> None:
        """Errors are raised as typed exceptions by status; their schema is not the return type."""
        path = (
            "paths",
            "/things",
            "get",
            "responses",
            "422",
            "content",
            "application/json",
            "schema",
            "type",
        )
        got = one(path, "replace", "object", "string")
        assert got == (
            "non-breaking",
            "client.things.listThings()",
            "error response `422` schema changed",
        )


ALTERNATIVES = "x-getsales-required-alternatives"  # where the normaliser records anyOf/oneOf


def alternatives_docs(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """OLD/NEW with ThingInput's "provide at least/exactly one of" rules set as given."""
    docs = []
    for rules in (before, after):
        doc = copy.deepcopy(OLD)
        if rules is not None:
            doc["components"]["schemas"]["thing-input"][ALTERNATIVES] = rules
            doc["components"]["schemas"]["thing"][ALTERNATIVES] = rules
        docs.append(doc)
    return docs[0], docs[1]


class TestRequiredAlternatives:
    @pytest.mark.parametrize(
        ("before", "after", "expected"),
        [
            (
                None,
                {"anyOf": [["size"], ["kind"]]},
                ("breaking", "request now needs at least one of: `size` | `kind`"),
            ),
            (
                None,
                {"anyOf": [["name"], ["kind"]]},  # `name` is required already: no call refused
                ("non-breaking", "request now needs at least one of: `name` | `kind`"),
            ),
            (
                None,
                {"oneOf": [["size"], ["kind"]]},
                ("breaking", "request now needs exactly one of: `size` | `kind`"),
            ),
            (
                {"anyOf": [["size"], ["kind"]]},
                {"anyOf": [["size"], ["kind"], ["note"]]},
                (
                    "non-breaking",
                    "request needs at least one of: `size` | `kind` | `note` (was: `size` | `kind`)",
                ),
            ),
            (
                {"anyOf": [["size"], ["kind"]]},
                {"anyOf": [["size", "note"], ["kind"]]},
                (
                    "breaking",
                    "request needs at least one of: `size`+`note` | `kind` (was: `size` | `kind`)",
                ),
            ),
            (
                {"anyOf": [["size"], ["kind"]]},
                None,
                ("non-breaking", "request no longer needs at least one of: `size` | `kind`"),
            ),
        ],
    )
    def test_request_rule_is_breaking_when_a_valid_call_is_now_refused(
        self, before: Any, after: Any, expected: tuple[str, str]
    ) -> None:
        """An added or tightened rule refuses calls that worked, as a newly required field does."""
        old, new = alternatives_docs(before, after)
        action = "add" if before is None else "remove" if after is None else "replace"
        got = one((*BODY, ALTERNATIVES), action, before, after, old=old, new=new)
        assert got == (expected[0], "ThingInput", expected[1])

    def test_each_raw_diff_inside_the_rule_gives_the_same_finding(self) -> None:
        """The differ reports a changed group value by value; each names the whole rule once."""
        old, new = alternatives_docs({"anyOf": [["size"]]}, {"anyOf": [["size", "kind", "note"]]})
        found = {
            one((*BODY, ALTERNATIVES, "anyOf", 0, i), "add", None, f, old=old, new=new)
            for i, f in ((1, "kind"), (2, "note"))
        }
        assert len(found) == 1

    def test_switch_from_any_to_exactly_one_is_breaking(self) -> None:
        """anyOf -> oneOf refuses calls that give several alternatives."""
        old, new = alternatives_docs(
            {"anyOf": [["size"], ["kind"]]}, {"oneOf": [["size"], ["kind"]]}
        )
        found = classify((*BODY, ALTERNATIVES, "oneOf"), "add", None, [], old, new, name)
        assert [f.level for f in found] == ["non-breaking", "breaking"]

    def test_response_rule_is_docs_only(self) -> None:
        """On a response it only states what the API sends; no SDK type changes."""
        old, new = alternatives_docs(None, {"anyOf": [["id"], ["name"]]})
        got = one((*RESP, ALTERNATIVES), "add", None, {}, old=old, new=new)
        assert got == ("docs", "Thing", "response field alternatives documented")


class TestOutsideOperations:
    def test_model_removed_is_breaking_and_added_is_not(self) -> None:
        """Component schemas are classes users import from getsales_async.models."""
        assert one(("components", "schemas", "legacy"), "remove", {}) == (
            "breaking",
            "Legacy",
            "model removed from getsales_async.models",
        )
        assert one(("components", "schemas", "widget"), "add", None, {})[0] == "non-breaking"

    def test_changes_inside_components_are_left_to_the_operations(self) -> None:
        """A component change is reported once per use, with its side, not again on its own."""
        path = ("components", "schemas", "thing", "properties", "id", "type")
        assert classify(path, "replace", "string", "integer", OLD, NEW, name) == []

    def test_description_metadata_is_docs_and_servers_are_not(self) -> None:
        """`info` is text; any other top-level change is reported as non-breaking."""
        assert one(("info", "version"), "replace", "1", "2")[0] == "docs"
        assert one(("servers", 0), "add", None, {})[0] == "non-breaking"


class TestNames:
    @pytest.mark.parametrize(
        ("component", "cls"),
        [
            ("webhook-event", "WebhookEvent"),
            ("lead-page", "LeadPage"),
            ("thing_input", "ThingInput"),
        ],
    )
    def test_model_name_matches_the_generated_class(self, component: str, cls: str) -> None:
        """Subjects use the class names users import."""
        assert model_name(component) == cls

    def test_locate_follows_refs_to_the_innermost_component(self) -> None:
        """A change behind a `$ref` is attributed to the referenced model, its path restarted."""
        root = OLD["paths"]["/things"]["get"]["responses"]["200"]["content"]["application/json"]
        where = locate(OLD, root["schema"], ("properties", "state", "enum", 1))
        assert where is not None
        assert (where.component, where.field, where.leaf) == ("thing", ("state",), ("enum", 1))

    def test_field_whose_ref_changed_is_named_as_the_field(self) -> None:
        """A `$ref` moved to another component: the field changed, not the component it now uses."""
        docs = []
        for target in ("any-value", "size-unit"):
            doc = copy.deepcopy(OLD)
            doc["components"]["schemas"]["any-value"] = {"description": "anything"}
            doc["components"]["schemas"]["size-unit"] = {"type": "string", "enum": ["cm", "in"]}
            doc["components"]["schemas"]["thing-input"]["properties"]["size"] = {
                "$ref": f"#/components/schemas/{target}"
            }
            docs.append(doc)
        path = (*BODY, "properties", "size", "type")
        got = one(path, "add", None, "string", old=docs[0], new=docs[1])
        assert got == ("breaking", "ThingInput.size", "request type changed: (none) → `string`")

    def test_locate_returns_none_for_a_path_missing_from_the_document(self) -> None:
        """The classifier then falls back to the path's own field names."""
        assert (
            locate(OLD, {"type": "object"}, ("properties", "x", "properties", "y", "type")) is None
        )
