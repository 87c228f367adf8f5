"""Who a contact is: LinkedIn references, e-mail domains, and the upsert deduplication keys.

Upsert finds an existing contact by these keys, in this priority order (the GetSales index):
``ln_member_id`` → ``ln_id`` → ``sn_id`` → LinkedIn nickname → ``work_email`` →
``personal_email`` → name + company name. Text keys compare case-insensitively.

The universal ``linkedin_id`` field is classified as the backend does it:

- a profile URL (``https://www.linkedin.com/in/<nick>``) or a bare nickname → ``linkedin``;
- a Sales Navigator URL (``/sales/lead/<id>,...`` or ``/sales/people/<id>,...``) or an id
  starting with ``ACwAA`` → ``sn_id``;
- an id starting with ``ACoAA`` → ``ln_id``;
- digits only → ``ln_member_id``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = [
    "DEDUP_ORDER",
    "classify_linkedin_id",
    "domain_of",
    "email_domain",
    "lead_keys",
    "nickname",
    "profile_url",
]

DEDUP_ORDER = (
    "ln_member_id",
    "ln_id",
    "sn_id",
    "nickname",
    "work_email",
    "personal_email",
    "name_company",
)

_PROFILE = re.compile(r"linkedin\.com/in/([^/?#\s]+)", re.IGNORECASE)
_SALES_NAV = re.compile(r"linkedin\.com/sales/(?:lead|people)/([^,/?#\s]+)", re.IGNORECASE)
_BARE_NICK = re.compile(r"[\w\-%.]+", re.UNICODE)


def nickname(reference: str | None) -> str | None:
    """The profile nickname of a LinkedIn URL or a bare nickname, lower-cased; else ``None``."""
    if not reference:
        return None
    found = _PROFILE.search(reference)
    if found:
        return unquote(found.group(1)).strip().lower() or None
    text = reference.strip()
    if "/" in text or not _BARE_NICK.fullmatch(text):
        return None
    return unquote(text).lower() or None


def profile_url(nick: str) -> str:
    """The canonical profile URL of a nickname."""
    return f"https://www.linkedin.com/in/{nick}"


def classify_linkedin_id(reference: str) -> tuple[str, str] | None:
    """Which contact field a universal ``linkedin_id`` fills, and its value (``None``: unknown)."""
    text = reference.strip()
    sales = _SALES_NAV.search(text)
    if sales:
        return ("sn_id", unquote(sales.group(1)))
    if text.startswith("ACwAA"):
        return ("sn_id", text)
    if text.startswith("ACoAA"):
        return ("ln_id", text)
    if text.isdigit():
        return ("ln_member_id", text)
    nick = nickname(text)
    return ("linkedin", profile_url(nick)) if nick else None


def email_domain(email: str | None) -> str | None:
    """The lower-cased domain of an e-mail address."""
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower() or None


def domain_of(value: str | None) -> str | None:
    """A bare domain from a domain or website (scheme, ``www.``, path and port removed)."""
    if not value or not value.strip():
        return None
    text = value.strip().lower()
    try:
        host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    except ValueError:  # not URL-shaped (e.g. an unbalanced "["): keep the text as given
        host = text
    host = host.removeprefix("www.")
    return host or None


def _lower(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    return text or None


def lead_keys(lead: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A contact's deduplication keys ``(kind, value)``, in :data:`DEDUP_ORDER`."""
    name = _lower(lead.get("name"))
    company = _lower(lead.get("company_name"))
    candidates = {
        "ln_member_id": _lower(lead.get("ln_member_id")),
        "ln_id": _lower(lead.get("ln_id")),
        "sn_id": _lower(lead.get("sn_id")),
        "nickname": nickname(lead.get("linkedin")),
        "work_email": _lower(lead.get("work_email")),
        "personal_email": _lower(lead.get("personal_email")),
        "name_company": f"{name}\x00{company}" if name and company else None,
    }
    return [(kind, value) for kind in DEDUP_ORDER if (value := candidates[kind]) is not None]
