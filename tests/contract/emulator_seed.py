"""Records for the emulator conformance suite: one of every kind, and cases pointed at them.

:func:`seed` creates, through the emulator's API, one record of every kind the operations name
(a list, tag, custom fields, company, contact, note, blacklist entries, webhook, LLM connection,
AI agent and template, two sender profiles, mailbox, browser, flow workspace, a running flow with
two versions and the contact in it (a manual task waiting), a LinkedIn message, an e-mail, an
import, an enrichment entry, a finished export, and an uploaded CSV of each type). The suite
snapshots that state once and restores it before every case.

Random identifiers only ever find 404s, so :func:`point_at_records` rewrites a positive case's
path parameters and reference fields to name the seeded records (and a few fields whose rules
a schema cannot state: a known node type, a provider, metric names, a CSV upload with a header,
an import's column mapping, a payload per mass-action type).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import strategies as st
from schemathesis import Case

from getsales_async.testing import GetSalesEmulator
from getsales_async.testing.emulator import DEFAULT_TEAM_ID

__all__ = ["MASS_ACTIONS", "Records", "point_at_records", "seed"]

EXPORT_WAIT_S = 60.0
"""Seconds the seeding moves the emulator's clock so the export is finished."""


@dataclass(frozen=True)
class Records:
    """The seeded records: collection path (``/leads/api/lists``) or role → id."""

    ids: Mapping[str, Any]
    tag_name: str

    def __getitem__(self, key: str) -> Any:
        return self.ids[key]


MASS_ACTIONS: dict[str, Callable[[Records], dict[str, Any]]] = {
    "contact_add_tags": lambda r: {"added_tags": [r.tag_name, "new-tag"]},
    "contact_remove_tags": lambda r: {"removed_tags": [r.tag_name]},
    "contact_replace_tags": lambda r: {"tags": [r["/leads/api/tags"]]},
    "contact_change_list": lambda r: {"list_uuid": r["/leads/api/lists"]},
    "contact_change_pipeline_stage": lambda r: {
        "pipeline_stage_uuid": r["/leads/api/pipeline-stages"]
    },
    "contact_change_custom_field": lambda r: {
        "custom_field_uuid": r["lead_custom_field"],
        "value": "gold",
    },
    "contact_add_to_flow": lambda r: {"flow_uuid": r["/flows/api/flows"]},
    "contact_cancel_from_flows": lambda r: {"flow_uuids": [r["/flows/api/flows"]]},
    "contact_assign_ai_agent": lambda r: {"ai_agent_uuid": r["/flows/api/ai-agents"]},
    "contact_cancel_ai_agent": lambda r: {},
    "contact_delete": lambda r: {"reason": "conformance"},
    "contact_export_csv": lambda r: {},
}
"""Every documented mass-action type, each with a payload naming seeded records."""

UPLOADS = {
    "csv_leads": "First Name,Email,LinkedIn\nAda,ada@x.example,https://www.linkedin.com/in/ada\n",
    "csv_accounts": "Company,Domain\nAcme,acme.example\n",
}
"""A CSV per upload type, seeded (``upload:<type>``) and sent by pointed ``uploadCsv`` cases."""
IMPORTS = {
    "importLeadsFromFile": ("csv_leads", {"first_name": 0, "work_email": 1, "linkedin_id": 2}),
    "importCompaniesFromFile": ("csv_accounts", {"name": 0, "domain": 1}),
}
"""Import operation → the upload type it reads and a ``columns`` mapping for that seeded file."""

NODES: list[dict[str, Any]] = [
    {"id": 1, "type": "custom", "before": [], "after": [{"node_id": 2, "branch_id": 0}]},
    {
        "id": 2,
        "type": "linkedin_send_message",
        "before": [{"node_id": 1, "branch_id": 0}],
        "after": [{"node_id": 3, "branch_id": 0}],
        "payload": {"template": "Hi {{first_name}}"},
        "delay_in_seconds": 60,
    },
    {"id": 3, "type": "end", "before": [{"node_id": 2, "branch_id": 0}], "after": []},
]


class _Seeder:
    """Creates records through the API, failing loudly on any answer but a success."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.ids: dict[str, Any] = {}

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        answer = await self.client.request(method, path, json=body)
        assert answer.status_code < 300, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    async def crm(self, tag: str) -> None:
        ids = self.ids
        ids["/leads/api/lists"] = (
            await self.call("POST", "/leads/api/lists", {"name": "Prospects"})
        )["uuid"]
        tag_record = await self.call("POST", "/leads/api/tags", {"name": tag, "color": "#ff5733"})
        ids["/leads/api/tags"] = tag_record["uuid"]
        lead_field = await self.call(
            "POST", "/leads/api/custom-fields", {"name": "score", "object": "lead", "order": 1}
        )
        ids["lead_custom_field"] = lead_field["uuid"]
        field = await self.call(
            "POST", "/leads/api/custom-fields", {"name": "tier", "object": "company"}
        )
        ids["/leads/api/custom-fields"] = field["uuid"]
        company = {
            "name": "Acme",
            "domain": "acme.example",
            "website": "https://acme.example",
            "linkedin": "https://www.linkedin.com/company/acme",
            "industry": "Software",
            "employees_range": "11-50",
            "hq_raw_address": "1 Main St, Berlin",
            "tags": [tag],
        }
        ids["/leads/api/companies"] = (await self.call("POST", "/leads/api/companies", company))[0][
            "uuid"
        ]
        lead = await self.call(
            "POST", "/leads/api/leads/upsert", _lead_body(ids["/leads/api/lists"], tag)
        )
        ids["/leads/api/leads"] = lead["uuid"]
        note = {"object": "lead", "object_uuid": lead["uuid"], "note": "Met at a fair."}
        ids["/leads/api/notes"] = (await self.call("POST", "/leads/api/notes", note))["uuid"]
        entry = await self.call(
            "POST", "/leads/api/leads-blacklist", {"work_email": "spam@spam.example"}
        )
        ids["/leads/api/leads-blacklist"] = entry["uuid"]
        entry = await self.call(
            "POST", "/leads/api/companies-blacklist", {"domain": "spam.example"}
        )
        ids["/leads/api/companies-blacklist"] = entry["uuid"]
        hook = {
            "name": "Replies",
            "event": "contact_replied_linkedin_message",
            "target_url": "https://example.com/hooks",
        }
        ids["/integrations/api/webhooks"] = (
            await self.call("POST", "/integrations/api/webhooks", hook)
        )["uuid"]
        stages = (await self.client.get("/leads/api/pipeline-stages")).json()["data"]
        ids["/leads/api/pipeline-stages"] = next(
            s["uuid"] for s in stages if s["object"] == "lead"
        )  # a contact stage: what the stage mass action needs

    async def ai_and_senders(self) -> None:
        ids = self.ids
        llm = await self.call(
            "POST",
            "/integrations/api/llms",
            {"provider": "openai", "api_token": "sk-test-0123456789"},
        )
        ids["/integrations/api/llms"] = llm["uuid"]
        agent = {"name": "Classifier", "classification_llm_uuid": llm["uuid"]}
        ids["/flows/api/ai-agents"] = (await self.call("POST", "/flows/api/ai-agents", agent))[
            "uuid"
        ]
        template = {
            "name": "Intro",
            "type": "message",
            "is_public": 0,
            "body": "Hi {{first_name}}",
            "llm_uuid": llm["uuid"],
        }
        ids["/flows/api/ai-templates"] = (
            await self.call("POST", "/flows/api/ai-templates", template)
        )["uuid"]
        for role in ("/flows/api/sender-profiles", "spare_profile"):
            profile = {
                "first_name": "Sam",
                "last_name": role[-7:],
                "assignee_user_id": DEFAULT_TEAM_ID,
            }
            ids[role] = (await self.call("POST", "/flows/api/sender-profiles", profile))["uuid"]
        mailbox = {
            "email": "sam@acme.example",
            "sender_name": "Sam",
            "sender_profile_uuid": ids["/flows/api/sender-profiles"],
            "connection_settings": {"smtp_host": "smtp.acme.example", "smtp_port": 587},
        }
        ids["/emails/api/mailboxes"] = (await self.call("POST", "/emails/api/mailboxes", mailbox))[
            "uuid"
        ]
        browser = {
            "sender_profile_uuid": ids["/flows/api/sender-profiles"],
            "proxy_country_code": "US",
        }
        ids["/browsers/api/linkedin-browsers"] = (
            await self.call("POST", "/browsers/api/linkedin-browsers", browser)
        )["id"]

    async def automation(self) -> None:
        ids = self.ids
        workspace = await self.call("POST", "/flows/api/flow-workspaces", {"name": "Q1"})
        ids["/flows/api/flow-workspaces"] = workspace["uuid"]
        schedule = {"timezone": "UTC", "timeblocks": [{"dow": 1, "min": 540, "max": 1020}]}
        flow = await self.call(
            "POST",
            "/flows/api/flows",
            {
                "name": "Outreach",
                "use_sender_schedule": False,
                "schedule": schedule,
                "flow_workspace_uuid": workspace["uuid"],
            },
        )
        ids["/flows/api/flows"] = flow["uuid"]
        ids["/flows/api/flow-versions"] = flow["flow_version_uuid"]  # the older version: deletable
        source = {"id": 1, "sender_profiles": [ids["/flows/api/sender-profiles"]], "after_id": 1}
        await self.call(
            "POST",
            f"/flows/api/flows/{flow['uuid']}/flow-versions",
            {"nodes": NODES, "contact_sources": [source]},
        )
        await self.call("PUT", f"/flows/api/flows/{flow['uuid']}/start")
        await self.call("POST", f"/flows/api/flows/{flow['uuid']}/leads/{ids['/leads/api/leads']}")
        tasks = (await self.client.get("/flows/api/tasks")).json()["data"]
        ids["/flows/api/tasks"] = tasks[0]["uuid"]

    async def messaging_and_data(self, emulator: GetSalesEmulator) -> None:
        ids = self.ids
        lead, profile = ids["/leads/api/leads"], ids["/flows/api/sender-profiles"]
        await self.call(
            "POST",
            "/flows/api/linkedin-messages",
            {"sender_profile_uuid": profile, "lead_uuid": lead, "text": "Hello"},
        )
        email = {
            "mailbox_uuid": ids["/emails/api/mailboxes"],
            "to": [{"to_email": "jane@acme.example"}],
            "subject": "Hello",
            "body": "<p>Hi</p>",
            "lead_uuid": lead,
        }
        ids["/emails/api/emails"] = (
            await self.call("POST", "/emails/api/emails/send-email", email)
        )["uuid"]
        source = {
            "type": "sn_leads_search",
            "list_uuid": ids["/leads/api/lists"],
            "payload": {"url": "https://www.linkedin.com/sales/search/people?query=cto"},
        }
        ids["/leads/api/data-sources"] = (
            await self.call("POST", "/leads/api/data-sources", source)
        )["uuid"]
        await self.call("PUT", "/leads/api/leads/advanced-enrichment", {"uuids": [lead]})
        ids["/leads/api/enrichment-queue"] = (
            await self.client.get("/leads/api/enrichment-queue")
        ).json()["data"][0]["id"]
        export = await self.call("POST", "/leads/api/file-exports/leads", {"filter": {"all": True}})
        await emulator.advance(EXPORT_WAIT_S)
        ids["export_file"] = f"{export['uuid']}.csv"
        for kind, text in UPLOADS.items():
            files = {"file": ("seed.csv", text.encode(), "text/csv")}
            upload = await self.client.post(
                "/leads/api/file-imports/upload-csv", files=files, data={"type": kind}
            )
            assert upload.status_code == 200, (kind, upload.text)
            ids[f"upload:{kind}"] = upload.json()["uuid"]


def _lead_body(list_uuid: str, tag: str) -> dict[str, Any]:
    return {
        "list_uuid": list_uuid,
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
    }


async def seed(emulator: GetSalesEmulator, auth: Mapping[str, str]) -> Records:
    """Reset the emulator, then create one record of every kind through its API."""
    emulator.reset()
    tag = "vip"
    async with httpx.AsyncClient(
        base_url="http://emulator", transport=emulator.transport(), headers=dict(auth)
    ) as client:
        seeder = _Seeder(client)
        await seeder.crm(tag)
        await seeder.ai_and_senders()
        await seeder.automation()
        await seeder.messaging_and_data(emulator)
    return Records(ids=seeder.ids, tag_name=tag)


# ---------------------------------------------------------------------------- pointing cases


Pointer = Callable[[dict[str, Any], Records, st.DataObject], None]


def _if_present(body: dict[str, Any], key: str, value: Any) -> None:
    if key in body:
        body[key] = value


def _mass_action(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    action = data.draw(st.sampled_from(sorted(MASS_ACTIONS)), label="mass action")
    body["type"] = action
    body["payload"] = MASS_ACTIONS[action](r)
    if isinstance(body.get("filter"), dict):
        body["filter"] = {**body["filter"], "ids": [r["/leads/api/leads"]]}


def _upload(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    kind = body.get("type") if body.get("type") in UPLOADS else "csv_leads"
    body.update(type=kind, file=UPLOADS[str(kind)].encode())


def _import(operation_id: str) -> Pointer:
    def point(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
        body["columns"] = dict(IMPORTS[operation_id][1])
        body.pop("tags", None)
        if operation_id == "importLeadsFromFile":
            body["list_uuid"] = r["/leads/api/lists"]

    return point


def _note(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    owner = "/leads/api/companies" if body.get("object") == "company" else "/leads/api/leads"
    body["object_uuid"] = r[owner]


def _data_source(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    _if_present(body, "list_uuid", r["/leads/api/lists"])
    _if_present(body, "sender_profile_uuid", r["/flows/api/sender-profiles"])
    if "payload" in body:
        body["payload"] = {"url": "https://www.linkedin.com/search/results/people/?keywords=cto"}


def _email(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    body["mailbox_uuid"] = r["/emails/api/mailboxes"]
    body["to"] = [{"to_email": "jane@acme.example", "to_name": "Jane"}]
    body["subject"] = "Hello"
    for key in ("to_email", "cc", "bcc", "in_reply_to_email_uuid"):
        body.pop(key, None)
    _if_present(body, "lead_uuid", r["/leads/api/leads"])


def _proxy(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    body["proxy_country_code"] = "DE"
    _if_present(body, "custom_proxy_config", {"host": "proxy.example.com", "port": 3128})


def _browser_update(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    body.pop("linkedin_account_uuid", None)
    _if_present(body, "status", "idle")
    _if_present(body, "schedule", SCHEDULE)


def _version(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    source = {"id": 1, "sender_profiles": [r["/flows/api/sender-profiles"]], "after_id": 1}
    body.update(nodes=NODES, contact_sources=[source])
    body.pop("first_common_node_id", None)


def _render(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    body.update(
        lead_uuid=r["/leads/api/leads"], sender_profile_uuid=r["/flows/api/sender-profiles"]
    )
    _if_present(body, "uuid", r["/flows/api/ai-templates"])


SCHEDULE = {"timezone": "UTC", "timeblocks": [{"dow": 1, "min": 540, "max": 1020}]}


def _flow(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    _if_present(body, "schedule", SCHEDULE)
    _if_present(body, "flow_workspace_uuid", r["/flows/api/flow-workspaces"])
    if isinstance(body.get("priority"), int):
        body["priority"] = abs(body["priority"])


def _sender_profile(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    _if_present(body, "assignee_user_id", DEFAULT_TEAM_ID)
    for name in ("schedule", "linkedin_schedule", "email_schedule"):
        _if_present(body, name, SCHEDULE)


def _new_sender_profile(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    body["assignee_user_id"] = DEFAULT_TEAM_ID
    _sender_profile(body, r, data)


def _metrics(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    names = ["linkedin_sent_count", "email_sent_count", "unread_count", "linkedin_inbox_count"]
    body["metrics"] = data.draw(
        st.lists(st.sampled_from(names), min_size=1, unique=True), label="metrics"
    )


def _new_lead(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    body["list_uuid"] = r["/leads/api/lists"]
    body.pop("flow_segment_id", None)


def _linkedin_message(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    body.update(
        sender_profile_uuid=r["/flows/api/sender-profiles"], lead_uuid=r["/leads/api/leads"]
    )
    _if_present(body, "template_uuid", r["/flows/api/ai-templates"])


def _delete_mailbox(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    body["automation_reassign_mailboxes"] = False
    body.pop("automation_mailbox_to_reassign", None)


def _new_browser(body: dict[str, Any], r: Records, data: st.DataObject) -> None:
    body["sender_profile_uuid"] = r["spare_profile"]
    _proxy(body, r, data)


POINTERS: dict[str, Pointer] = {
    "upsertLead": lambda b, r, d: b.update(list_uuid=r["/leads/api/lists"]),
    "addNewLeadToFlow": _new_lead,
    "createNote": _note,
    "massActionLeads": _mass_action,
    "uploadCsv": _upload,
    "importLeadsFromFile": _import("importLeadsFromFile"),
    "importCompaniesFromFile": _import("importCompaniesFromFile"),
    "createDataSource": _data_source,
    "updateDataSource": _data_source,
    "createFlow": _flow,
    "updateFlow": _flow,
    "createFlowVersion": _version,
    "validateFlowNode": lambda b, r, d: b.update(NODES[1]),
    "validateContactSource": lambda b, r, d: b.pop("options", None) and None,
    "addLeadToFlow": lambda b, r, d: _if_present(b, "contact_source_id", 1),
    "cancelFlowLead": lambda b, r, d: b.update(flow_uuids=[r["/flows/api/flows"]]),
    "createSenderProfile": _new_sender_profile,
    "updateSenderProfile": _sender_profile,
    "connectExternalBrowser": lambda b, r, d: b.update(first_name="Mia", last_name="Roe"),
    "sendLinkedinMessage": _linkedin_message,
    "sendEmail": _email,
    "connectSmtpImapMailbox": lambda b, r, d: b.update(
        sender_profile_uuid=r["spare_profile"], email="new@acme.example"
    ),
    "deleteMailbox": _delete_mailbox,
    "createAiAgent": lambda b, r, d: _if_present(
        b, "classification_llm_uuid", r["/integrations/api/llms"]
    ),
    "updateAiAgent": lambda b, r, d: _if_present(
        b, "classification_llm_uuid", r["/integrations/api/llms"]
    ),
    "createAiTemplate": lambda b, r, d: _if_present(b, "llm_uuid", r["/integrations/api/llms"]),
    "updateAiTemplate": lambda b, r, d: _if_present(b, "llm_uuid", r["/integrations/api/llms"]),
    "renderAiTemplate": _render,
    "createLinkedinBrowser": _new_browser,
    "updateLinkedinBrowser": _browser_update,
    "setBrowserProxy": _proxy,
    "checkProxy": _proxy,
    "shareBrowser": lambda b, r, d: b.update(recipients=["ops@acme.example"]),
    "enrichLeads": lambda b, r, d: b.update(uuids=[r["/leads/api/leads"]]),
    "enrichCompanies": lambda b, r, d: b.update(uuids=[r["/leads/api/companies"]]),
    "downloadExport": lambda b, r, d: b.update(file_name=r["export_file"]),
    "dataSourceMetrics": lambda b, r, d: b.update(uuids=[r["/leads/api/data-sources"]]),
    "getFlowMetrics": lambda b, r, d: b.update(uuids=[r["/flows/api/flows"]]),
    "testWebhook": lambda b, r, d: b.update(uuid=r["/integrations/api/webhooks"]),
    "createLlmConnection": lambda b, r, d: b.update(
        provider="anthropic", api_token="sk-ant-0123456789"
    ),
    "updateLlmConnection": lambda b, r, d: _if_present(b, "api_token", "sk-rotated-0123456789"),
    "getLeadMetrics": _metrics,
    "getFirstLinkedinBrowser": lambda b, r, d: b.update(filter={}),
    "classifyLead": lambda b, r, d: _if_present(b, "lead_uuid", r["/leads/api/leads"]),
}
"""Body rewrites per operation, for positive cases pointed at the seeded records."""

_ID_PATHS = {
    "/id/api/teams": DEFAULT_TEAM_ID,
}


def _collection(path: str, name: str) -> str:
    return path.split("/{" + name + "}", 1)[0]


def point_at_records(
    case: Case[Any], operation_id: str, records: Records, data: st.DataObject
) -> None:
    """Make a generated case name the seeded records where it would name random ones."""
    params = case.path_parameters if case.path_parameters is not None else {}
    for name in list(params):
        if name == "flowUuid":
            params[name] = records["/flows/api/flows"]
        elif name == "leadUuid":
            params[name] = records["/leads/api/leads"]
        elif operation_id in IMPORTS:
            params[name] = records[f"upload:{IMPORTS[operation_id][0]}"]
        elif name in ("uuid", "id"):
            collection = _collection(case.path, name)
            params[name] = _ID_PATHS.get(collection, records.ids.get(collection, params[name]))
    if operation_id == "getTaskSchedule" and case.query is not None:
        case.query["sender_profile_uuid"] = records["/flows/api/sender-profiles"]
    pointer = POINTERS.get(operation_id)
    if pointer is not None and isinstance(case.body, dict):
        pointer(case.body, records, data)
