"""Typed webhook events (``parse_event``) and the ASGI receiver (``WebhookReceiver``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from getsales_async.webhooks import (
    EVENT_TYPES,
    MAX_BODY_BYTES,
    AccountEvent,
    ConnectionAcceptedEvent,
    ConnectionRequestEvent,
    ContactEvent,
    EmailEvent,
    Event,
    LinkedInMessageEvent,
    SenderProfileIssueEvent,
    UnknownEvent,
    WebhookParseError,
    WebhookReceiver,
    parse_event,
)

pytestmark = pytest.mark.anyio

SECRET = "s3cret-token-0123456789"
BODY: dict[str, Any] = {
    "event_name": "contact_replied_linkedin_message",
    "contact": {
        "uuid": "c-1",
        "name": "Jane Doe",
        "linkedin_url": "https://www.linkedin.com/in/janedoe",
        "tags": ["vip", 7],
        "custom_thing": {"x": 1},
    },
    "account": {"uuid": "a-1", "name": "Acme", "size": "11-50"},
    "sender_profile": {"uuid": "s-1", "first_name": "Sam", "assignee_user_id": "12", "team_id": 1},
    "automation": {"uuid": "f-1", "name": "Outreach", "status": "on", "priority": 2},
    "contact_markers": {"email_sent_count": 1},
    "linkedin_connection": None,
    "linkedin_connection_request": None,
    "linkedin_message": {
        "text": "Sounds good",
        "type": "inbox",
        "sent_at": "2025-01-01T10:00:00.000000Z",
        "read_at": "yesterday",
    },
    "email": None,
    "new_top_level": True,
}


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class TestParseEvent:
    @pytest.mark.parametrize("name", sorted(EVENT_TYPES))
    def test_known_name_gives_its_class(self, name: str) -> None:
        """Each documented event name parses to the class EVENT_TYPES names."""
        event = parse_event({"event_name": name})
        assert type(event) is EVENT_TYPES[name] and event.event_name == name

    def test_classes_cover_the_event_families(self) -> None:
        """Every event family has at least one name, and names map to the family's class."""
        families = {
            "contact_tag_added": ContactEvent,
            "account_exported": AccountEvent,
            "contact_replied_linkedin_inmail": LinkedInMessageEvent,
            "sender_profile_sent_linkedin_connection_request": ConnectionRequestEvent,
            "contact_accepted_linkedin_connection_request": ConnectionAcceptedEvent,
            "email_bounced": EmailEvent,
            "sender_profile_issue": SenderProfileIssueEvent,
        }
        assert {name: EVENT_TYPES[name] for name in families} == families

    def test_reply_body_is_read_into_typed_objects(self) -> None:
        """A reply delivery gives the contact, sender, flow and message as typed objects."""
        event = parse_event(json.dumps(BODY).encode())
        assert isinstance(event, LinkedInMessageEvent)
        assert event.contact is not None and event.contact.name == "Jane Doe"
        assert event.contact.tags == ("vip",)
        assert event.account is not None and event.account.size == "11-50"
        assert event.sender_profile is not None and event.sender_profile.assignee_user_id == 12
        assert event.automation is not None and event.automation.priority == 2
        assert event.linkedin_message is not None
        assert event.linkedin_message.sent_at == datetime(2025, 1, 1, 10, tzinfo=UTC)
        assert event.contact_markers == {"email_sent_count": 1}

    def test_unknown_fields_and_names_are_kept(self) -> None:
        """Unknown names give UnknownEvent, unknown fields stay readable in raw."""
        event = parse_event({**BODY, "event_name": "contact_teleported"})
        assert isinstance(event, UnknownEvent) and event.event_name == "contact_teleported"
        assert event.raw["new_top_level"] is True
        assert event.contact is not None and event.contact.raw["custom_thing"] == {"x": 1}

    def test_wrong_types_read_as_none(self) -> None:
        """Values of the wrong type (and unreadable times) read as None instead of raising."""
        body = {
            "event_name": "sender_profile_sent_email",
            "contact": {"uuid": 5, "name": ["x"]},
            "account": "not an object",
            "email": {"subject": 3, "sent_at": "2025-13-45", "body": "<p>hi</p>"},
        }
        event = parse_event(body)
        assert isinstance(event, EmailEvent)
        assert (
            event.contact is not None and event.contact.uuid is None and event.contact.name is None
        )
        assert event.account is None
        assert (
            event.email is not None and event.email.subject is None and event.email.sent_at is None
        )
        assert event.email.body == "<p>hi</p>"

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            pytest.param(b"{not json", "not JSON", id="not-json"),
            pytest.param(b"[1, 2]", "must be a JSON object", id="array"),
            pytest.param(b'{"contact": {}}', "no string event_name", id="no-event-name"),
            pytest.param(b'{"event_name": 3}', "no string event_name", id="event-name-type"),
            pytest.param(b"\xff\xfe", "not JSON", id="not-utf8"),
            pytest.param(
                b'{"event_name": "x", "a": ' + b"[" * 40 + b"]" * 40 + b"}", "deeper", id="deep"
            ),
            pytest.param(b"[" * 100_000, "deeper", id="very-deep"),
            pytest.param(b" " * (MAX_BODY_BYTES + 1), "at most", id="too-large"),
        ],
    )
    def test_bodies_that_are_not_deliveries_raise(self, body: bytes, message: str) -> None:
        """What cannot be a delivery raises WebhookParseError with one line saying why."""
        with pytest.raises(WebhookParseError, match=message) as caught:
            parse_event(body)
        assert "\n" not in str(caught.value)


async def _handler_log() -> tuple[list[Event], WebhookReceiver]:
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    return seen, WebhookReceiver(handler, secret=SECRET)


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hooks")


class TestWebhookReceiver:
    async def test_delivery_reaches_handler_and_answers_200(self) -> None:
        """A delivery with the right token is parsed, handed to the handler, answered 200."""
        seen, receiver = await _handler_log()
        url = receiver.target_url("http://hooks/getsales?source=crm")
        async with _client(receiver) as client:
            answer = await client.post(url, json=BODY)
            also_put = await client.put(url, json={"event_name": "contact_created"})
        assert answer.status_code == 200 and answer.json() == {"ok": True}
        assert also_put.status_code == 200
        assert [e.event_name for e in seen] == [BODY["event_name"], "contact_created"]

    @pytest.mark.parametrize(
        "query",
        ["", "?token=wrong-token-0123456789", f"?token={SECRET}x", f"?token={SECRET}&token=x"],
    )
    async def test_wrong_or_missing_token_is_401(self, query: str) -> None:
        """Without exactly the right token the answer is 401 and the handler is not called."""
        seen, receiver = await _handler_log()
        async with _client(receiver) as client:
            answer = await client.post(f"/getsales{query}", json=BODY)
        assert answer.status_code == 401 and seen == []

    async def test_bodies_that_are_not_deliveries_are_refused(self) -> None:
        """Bad JSON is 400, an oversized body 413, an unexpected method 405; no handler call."""
        seen: list[Event] = []

        async def handler(event: Event) -> None:
            seen.append(event)

        receiver = WebhookReceiver(handler, secret=SECRET, max_body_bytes=1000)
        url = receiver.target_url("/getsales")
        async with _client(receiver) as client:
            bad = await client.post(url, content=b"{nope")
            big = await client.post(url, content=b"x" * 1001)
            method = await client.request("OPTIONS", url)
        assert (bad.status_code, big.status_code, method.status_code) == (400, 413, 405)
        assert "not JSON" in bad.json()["error"] and seen == []

    async def test_handler_failure_is_500_so_getsales_retries(self) -> None:
        """A handler that raises gets its delivery answered 500."""

        async def handler(event: Event) -> None:
            raise RuntimeError("database down")

        receiver = WebhookReceiver(handler, secret=None)
        async with _client(receiver) as client:
            answer = await client.post("/getsales", json=BODY)
        assert answer.status_code == 500

    def test_secret_is_checked_and_never_shown(self) -> None:
        """Short secrets are refused at construction; repr does not show the secret."""

        async def handler(event: Event) -> None:
            return None

        with pytest.raises(ValueError, match="at least 16 characters"):
            WebhookReceiver(handler, secret="short")
        receiver = WebhookReceiver(handler, secret=SECRET)
        assert SECRET not in repr(receiver) and "secret=set" in repr(receiver)
        assert receiver.target_url("https://x.io/h?a=1").endswith(f"a=1&token={SECRET}")
