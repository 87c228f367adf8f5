"""The emulator's LLM connections, AI agents and AI templates, through the SDK."""

from __future__ import annotations

import httpx
import pytest

from getsales_async import AsyncGetSales, NotFoundError, UnprocessableEntityError

from .emulator_fixtures import *  # noqa: F403
from .emulator_fixtures import uuid_of

pytestmark = pytest.mark.anyio

TOKEN = "sk-test-0123456789abcd"


async def llm(client: AsyncGetSales) -> str:
    return uuid_of(await client.llm_connections.create(provider="openai", api_token=TOKEN))


class TestLlmConnections:
    async def test_round_trip_with_masked_token(self, client: AsyncGetSales) -> None:
        """Create, get (token masked), list by provider, rotate, delete; bad tokens are 422."""
        connection = await client.llm_connections.create(
            provider="openai", api_token=TOKEN, name="Main"
        )
        assert connection.api_token == "****abcd" and connection.status == "active"
        await client.llm_connections.create(provider="anthropic", api_token="sk-ant-0123456789")
        found = [c.name async for c in client.llm_connections.list(filter={"provider": "openai"})]
        assert found == ["Main"]
        rotated = await client.llm_connections.update(
            uuid_of(connection), api_token="sk-new-99999999wxyz"
        )
        assert rotated.api_token == "****wxyz"
        assert TOKEN not in str(await client.llm_connections.get(uuid_of(connection)))
        with pytest.raises(UnprocessableEntityError, match="rejected"):
            await client.llm_connections.create(provider="openai", api_token="invalid-token-123")
        with pytest.raises(UnprocessableEntityError, match="provider"):
            await client.llm_connections.create(provider="skynet", api_token=TOKEN)
        await client.llm_connections.delete(uuid_of(connection))
        with pytest.raises(NotFoundError):
            await client.llm_connections.get(uuid_of(connection))

    async def test_config_options_list_providers_and_models(self, client: AsyncGetSales) -> None:
        """The catalogue names each provider with its models and the parameter ranges."""
        options = await client.llm_connections.get_config_options()
        assert "openai" in options.providers and "gpt-4o" in options.models["openai"]
        assert options.parameters["temperature"]["max"] == 2.0


class TestAiAgents:
    async def test_round_trip_classify_and_metrics(self, client: AsyncGetSales) -> None:
        """Create, get, list, update; classifications count per category in the metrics."""
        agent = await client.ai_agents.create(
            name="Replies", classification_llm_uuid=await llm(client)
        )
        assert (await client.ai_agents.get(uuid_of(agent))).name == "Replies"
        assert [uuid_of(a) async for a in client.ai_agents.list()] == [uuid_of(agent)]
        updated = await client.ai_agents.update(uuid_of(agent), classification_prompt="Be brief.")
        assert updated.classification_prompt == "Be brief."
        for text in ("Sounds good!", "Not interested, thanks", "Who is this?", ""):
            answer = await client.ai_agents.classify_lead(uuid_of(agent), extra_body={"text": text})
            assert answer.additional_properties["status"] == "queued"
        metrics = await client.ai_agents.get_metrics(extra_body={"uuids": [uuid_of(agent)]})
        counts = metrics.additional_properties[uuid_of(agent)]
        assert {
            k: counts[k] for k in ("positive", "negative", "neutral", "no_reply", "fallback")
        } == {
            "positive": 1,
            "negative": 1,
            "neutral": 1,
            "no_reply": 1,
            "fallback": 0,
        }
        with pytest.raises(UnprocessableEntityError, match="LLM connection"):
            await client.ai_agents.create(name="X", classification_llm_uuid="missing")
        await client.ai_agents.delete(uuid_of(agent))
        with pytest.raises(NotFoundError):
            await client.ai_agents.get(uuid_of(agent))


class TestAiTemplates:
    async def test_round_trip_and_soft_delete(
        self, client: AsyncGetSales, raw: httpx.AsyncClient
    ) -> None:
        """Create (is_public required), update, list; delete is soft: still listed, then 404 to edit."""
        missing = await raw.post("/flows/api/ai-templates", json={"name": "X", "type": "message"})
        assert missing.status_code == 422 and "is_public" in missing.json()["error"]["data"]
        template = await client.ai_templates.create(
            name="Intro", type="message", is_public=0, body="Hi"
        )
        updated = await client.ai_templates.update(uuid_of(template), subject="Hello")
        assert updated.subject == "Hello"
        await client.ai_templates.delete(uuid_of(template))
        kept = await client.ai_templates.get(uuid_of(template))
        assert kept.additional_properties["deleted_at"]
        assert [uuid_of(t) async for t in client.ai_templates.list()] == [uuid_of(template)]
        with pytest.raises(NotFoundError):
            await client.ai_templates.update(uuid_of(template), name="Again")

    async def test_render_fills_variables_and_reports_unknown_ones(
        self, client: AsyncGetSales
    ) -> None:
        """render fills contact and sender variables; unknown ones give an error and the fallback."""
        profile = uuid_of(
            await client.sender_profiles.create(
                first_name="Sam", last_name="Seller", assignee_user_id=1
            )
        )
        listed = uuid_of(await client.lists.create(name="L"))
        lead = uuid_of(
            await client.leads.upsert(
                lead={"linkedin_id": "janedoe", "first_name": "Jane", "company_name": "Acme"},
                list_uuid=listed,
            )
        )
        template = await client.ai_templates.create(
            name="Intro",
            type="message",
            is_public=1,
            body="Hi {{first_name}} at {{company_name}}, {{sender.first_name}} here. {{favourite_colour}}",
            prompt="Write to {{first_name}}",
            llm_uuid=await llm(client),
            enable_fallback=True,
            settings={"fallback_message": "Hi there"},
        )
        result = await client.ai_templates.render(
            lead_uuid=lead, sender_profile_uuid=profile, uuid=uuid_of(template)
        )
        assert result.rendered_body == "Hi Jane at Acme, Sam here. "
        assert result.handling_error == "Unknown variables: favourite_colour."
        assert result.fallback_body == "Hi there"
        assert result.llm_instructions == "Write to Jane"
        assert result.ai_generated_body and "Write to Jane" in result.ai_generated_body
