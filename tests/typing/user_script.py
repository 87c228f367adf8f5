"""A typed user program against the public API, checked with ``mypy --strict`` (never run in tests).

It exports this quarter's new CTO leads to CSV-ready rows, enrolls them in a flow, keeps a
resumable checkpoint, and handles the SDK's errors, using only ``getsales_async`` and
``getsales_async.models``. ``assert_type`` pins the types the public API promises.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, assert_type

import anyio

from getsales_async import (
    APIStatusError,
    ArgumentError,
    AsyncGetSales,
    AsyncPaginator,
    Checkpoint,
    NotFoundError,
    Page,
    PaginationWindowError,
    RateLimit,
    RateLimitError,
    RawResponse,
    RequestOptions,
    UnprocessableEntityError,
)
from getsales_async.models import (
    AddNewLeadResult,
    ContactList,
    Email,
    FlowVersion,
    Lead,
    LeadPage,
    LeadSearchResult,
    ListEmailsFilter,
    OrderType,
    Tag,
    TagCollection,
    Webhook,
    WebhookEvent,
    WebhookRequestMethod,
)

CHECKPOINT_FILE = Path("leads-export.checkpoint.json")
QUARTER = {"created_at": {">=": "2024-01-01", "<": "2024-04-01"}}


def row_of(result: LeadSearchResult) -> dict[str, str]:
    """One CSV row per lead: the uuid is a plain str, the name may be None."""
    lead: Lead = result.lead
    return {"uuid": lead.uuid, "name": lead.name or ""}


async def export_quarter(client: AsyncGetSales) -> list[dict[str, str]]:
    """Search with a nested filter, resuming from a checkpoint file after a crash."""
    paginator: AsyncPaginator[Any, Any]
    if CHECKPOINT_FILE.exists():
        paginator = client.resume(Checkpoint.from_json(CHECKPOINT_FILE.read_text()))
    else:
        search = client.leads.search(
            filter={**QUARTER, "q": "cto"},
            order_field="created_at",
            order_type=OrderType.DESC,
            page_size=100,
            concurrency=4,
        )
        assert_type(search, AsyncPaginator[LeadSearchResult, LeadPage])
        paginator = search

    rows: list[dict[str, str]] = []
    try:
        async for page in paginator.pages():
            for item in page.items:
                if isinstance(item, LeadSearchResult):
                    rows.append(row_of(item))
            CHECKPOINT_FILE.write_text(paginator.checkpoint().to_json())
    except PaginationWindowError as exc:
        print(f"more than {exc.window} results: split the quarter by month ({exc})")
    return rows


async def first_page_summary(client: AsyncGetSales) -> int | None:
    """`await` a paginator for its first page only."""
    page = await client.leads.search(filter=QUARTER, page_size=10)
    assert_type(page, Page[LeadSearchResult, LeadPage])
    assert_type(page.total, int | None)
    assert_type(page.has_more, bool | None)
    if page.is_last():
        return len(page.items)
    return page.total


async def recent_emails(client: AsyncGetSales, lead_uuid: str) -> list[Email]:
    """A GET list with a typed filter model and early stop."""
    emails = client.emails.list(
        filter=ListEmailsFilter(lead_uuid=lead_uuid, status=["sent", "opened"]),
        order_type=OrderType.DESC,
    )
    first_five = await emails.to_list(max_items=5)
    assert_type(first_five, list[Email])
    return first_five


async def versions_of(client: AsyncGetSales, flow_uuid: str) -> list[str]:
    """Bare-array pages (flow versions) iterate the same way."""
    uuids: list[str] = []
    async for version in client.flows.list_versions(flow_uuid, page_size=50):
        assert_type(version, FlowVersion)
        uuids.append(version.uuid)
    return uuids


async def enroll(client: AsyncGetSales, flow_uuid: str, list_uuid: str) -> None:
    """Create-or-skip a lead in a flow; 204 gives None, a skip gives the reason."""
    result = await client.flow_leads.add_new(
        flow_uuid,
        lead={"linkedin_id": "ann-lee", "first_name": "Ann", "last_name": "Lee"},
        list_uuid=list_uuid,
        skip_if_lead_exists=True,
        update_lead_if_exists=False,
        request_options=RequestOptions(timeout=30.0, max_retries=2),
    )
    assert_type(result, AddNewLeadResult | None)
    if result is not None:
        print("skipped:", result.reason)
    existing = await client.leads.lookup(email="ann@example.com")
    if existing is not None:
        await client.flow_leads.add(flow_uuid, existing.uuid)


async def housekeeping(client: AsyncGetSales) -> None:
    """Raw responses, escape hatches, bytes downloads and the error tree."""
    raw = await client.tags.with_raw_response.create(name="cto-q1", color="#0055ff")
    assert_type(raw, RawResponse[Tag])
    print(raw.status_code, raw.headers.get("x-request-id"), raw.retries, raw.parsed.uuid)

    one_page = await client.tags.with_raw_response.list(limit=20, offset=0)
    assert_type(one_page, RawResponse[TagCollection])

    lists: ContactList = await client.lists.create(name="Q1 CTOs")
    print(lists.uuid)

    hook = await client.webhooks.create(
        name="replies",
        event=WebhookEvent("contact_replied"),
        target_url="https://hooks.example.com/getsales?token=secret",
        request_method=WebhookRequestMethod("POST"),
    )
    assert_type(hook, Webhook)

    await client.leads.upsert(
        lead={"linkedin_id": "ann-lee", "tags": ["cto-q1"]},
        list_uuid=lists.uuid,
        custom_fields={"Source": "webinar"},
        extra_body={"lead_source": "webinar"},
    )

    csv_bytes = await client.files.download_export(file_name="export-q1.csv")
    assert_type(csv_bytes, bytes)
    Path("export-q1.csv").write_bytes(csv_bytes)

    metrics = await client.flows.get_metrics(uuids=["f1"])
    for flow_uuid, flow_metrics in metrics.items():
        print(flow_uuid, flow_metrics.leads_count, flow_metrics.to_dict())

    try:
        await client.leads.get("does-not-exist")
    except NotFoundError as exc:
        print("gone:", exc.status_code, exc.request_id)
    except RateLimitError as exc:
        print("slow down, retry after", exc.retry_after)
    except UnprocessableEntityError as exc:
        print(json.dumps(exc.field_errors))
    except APIStatusError as exc:
        print(exc.status_code, exc.reason, exc.message)

    try:
        client.leads.search(page_size=500)
    except ArgumentError as exc:
        print("bad page size:", exc)


async def main() -> None:
    async with AsyncGetSales(
        api_key=os.environ["GETSALES_API_KEY"],
        rate_limit=RateLimit.for_quota(300, 60.0, burst=10),
        timeout=60.0,
    ) as client:
        rows = await export_quarter(client)
        print(len(rows), await first_page_summary(client))
        print(await recent_emails(client, "lead-uuid"))
        print(await versions_of(client, "flow-uuid"))
        await enroll(client, "flow-uuid", "list-uuid")
        await housekeeping(client)
        print(client.statistics().retries)


if __name__ == "__main__":
    anyio.run(main)
