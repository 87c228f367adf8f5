"""Which operations the emulator implements (a module per resource group), and their traits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from . import (
    _ai_agents,
    _ai_templates,
    _analytics,
    _browsers,
    _companies,
    _data_sources,
    _emails,
    _enrichment,
    _exports,
    _fields,
    _files,
    _flow_leads,
    _flow_versions,
    _flow_workspaces,
    _flows,
    _leads,
    _linkedin_messages,
    _lists,
    _llm_connections,
    _mailboxes,
    _mass_actions,
    _notes,
    _sender_profiles,
    _tasks,
    _teams,
    _webhooks,
)
from ._http import Call, Reply

__all__ = ["BODY_REQUIRED", "HANDLERS", "IMPLEMENTED_OPERATIONS", "READ_POSTS"]

Handler = Callable[[Call], Reply | Awaitable[Reply]]

HANDLERS: dict[str, Handler] = {
    **_teams.HANDLERS,
    **_lists.HANDLERS,
    **_fields.HANDLERS,
    **_notes.HANDLERS,
    **_leads.HANDLERS,
    **_companies.HANDLERS,
    **_data_sources.HANDLERS,
    **_enrichment.HANDLERS,
    **_exports.HANDLERS,
    **_flows.HANDLERS,
    **_flow_versions.HANDLERS,
    **_flow_leads.HANDLERS,
    **_flow_workspaces.HANDLERS,
    **_sender_profiles.HANDLERS,
    **_tasks.HANDLERS,
    **_linkedin_messages.HANDLERS,
    **_emails.HANDLERS,
    **_mailboxes.HANDLERS,
    **_ai_agents.HANDLERS,
    **_ai_templates.HANDLERS,
    **_browsers.HANDLERS,
    **_analytics.HANDLERS,
    **_webhooks.HANDLERS,
    **_llm_connections.HANDLERS,
    **_files.HANDLERS,
    **_mass_actions.HANDLERS,
}

IMPLEMENTED_OPERATIONS: frozenset[str] = frozenset(HANDLERS)
"""The operationIds the emulator implements; every other operation of the spec answers 404."""

READ_POSTS: frozenset[str] = frozenset(
    {
        "searchLeads",
        "countLeads",
        "lookupOneLead",
        "listCompanies",
        "lookupCompany",
        "listFlowLeads",
        "listLinkedinBrowsers",
        "getFirstLinkedinBrowser",
        "listBrowserLogs",
        "getFlowMetrics",
        "getFlowNodeStatistics",
        "getLinkedinMessageGroupCounts",
        "getLeadMetrics",
        "getSenderProfileMetrics",
        "getTaskMetrics",
        "getAiAgentMetrics",
        "enrichmentQueueMetrics",
        "dataSourceMetrics",
        "downloadExport",
        "renderAiTemplate",
        "validateFlowNode",
        "validateContactSource",
        "checkProxy",
    }
)
"""POST/PUT operations that only read (empty-body faults may hit them, fail-after-commit does not)."""

BODY_REQUIRED: frozenset[str] = frozenset(
    {
        "addCompanyToBlacklist", "addLeadToBlacklist", "addNewLeadToFlow", "cancelFlowLead",
        "checkProxy", "classifyLead", "connectExternalBrowser", "connectSmtpImapMailbox",
        "countLeads", "createAiAgent", "createAiTemplate", "createCompany", "createCustomField",
        "createDataSource", "createFlow", "createFlowVersion", "createFlowWorkspace",
        "createLinkedinBrowser", "createList", "createLlmConnection", "createNote",
        "createPipelineStage", "createSenderProfile", "createTag", "createWebhook",
        "dataSourceMetrics", "downloadExport", "enrichCompanies", "enrichLeads",
        "exportCompanies", "exportLeads", "getAiAgentMetrics", "getFirstLinkedinBrowser",
        "getFlowMetrics", "getFlowNodeStatistics", "getLeadMetrics",
        "getLinkedinMessageGroupCounts", "getSenderProfileMetrics", "getTaskMetrics",
        "importCompaniesFromFile", "importLeadsFromFile", "listBrowserLogs", "listCompanies",
        "listFlowLeads", "listLinkedinBrowsers", "lookupCompany", "lookupOneLead",
        "massActionLeads", "reconnectMailboxToSmtp", "renderAiTemplate", "searchLeads",
        "sendEmail", "sendLinkedinMessage", "setBrowserProxy", "shareBrowser", "testWebhook",
        "updateAiAgent", "updateAiTemplate", "updateCompany", "updateCustomField",
        "updateDataSource", "updateFlow", "updateFlowWorkspace", "updateLead",
        "updateLinkedinBrowser", "updateList", "updateLlmConnection", "updateNote",
        "updatePipelineStage", "updateSenderProfile", "updateTag", "updateWebhook",
        "upsertLead", "validateContactSource", "validateFlowNode",
    }
)  # fmt: skip
"""Operations whose JSON body the spec requires (400 ``bad_request`` without one)."""
