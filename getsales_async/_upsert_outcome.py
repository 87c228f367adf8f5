"""Created, updated or skipped: what an answered upsert did, from the best evidence there is.

GetSales answers an upsert with ``200`` and the contact either way, so the SDK judges in this
order:

1. **The answer says so.** ``201 Created``, or an ``X-Emulator-Upsert`` header (the emulator's,
   ``created`` / ``updated`` / ``skipped``), decides for that request, unless rule 2 applies.
2. **The job created it earlier.** When the row may have been sent before (the request was
   retried, the row is tried again, or the run resumes a job whose rows may have been in flight
   at a crash), a contact created on the server after the job started, and not yet counted as
   created by this job, was created by this job, even if the answer at hand says "updated".
3. **Otherwise the timestamps decide**: created since the job started (and not yet counted)
   means created, changed since means updated, unchanged means skipped
   (``update_if_exists=False`` always skips an existing contact). Without a ``Date`` header,
   ``created_at == updated_at`` means created.

The job's start is the server's time from the first answer's ``Date`` header, less its
one-second resolution, kept in the checkpoint so it spans resumed runs. What stays uncertain
where the API does not say (production answers 200 either way): a contact that someone else
created while the job ran, or less than a second before it started, is reported as created by
the job; and ``updated_at`` may also be moved by another writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from ._fingerprints import CompactSet
from ._import_types import RowStatus

__all__ = ["DATE_RESOLUTION_S", "OUTCOME_HEADER", "OutcomeJudge", "parse_time", "server_time"]

DATE_RESOLUTION_S = 1.0  # the HTTP Date header counts whole seconds
OUTCOME_HEADER = "x-emulator-upsert"
_OUTCOMES = {
    "created": RowStatus.CREATED,
    "updated": RowStatus.UPDATED,
    "skipped": RowStatus.SKIPPED,
}


def parse_time(value: Any) -> datetime | None:
    """A timezone-aware time from a datetime or an ISO 8601 text (``None`` if neither)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def server_time(date_header: str | None) -> datetime | None:
    """The server's time from a ``Date`` header (timezone-aware; ``None`` if unreadable)."""
    if not date_header:
        return None
    if date_header.count(",") > 1:  # a repeated header arrives joined with ", ": take the last
        date_header = ",".join(date_header.rsplit(",", 2)[-2:]).strip()
    try:
        parsed = parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # "-0000" means UTC


class OutcomeJudge:
    """Judges each answered upsert of one job (see the module docstring).

    Args:
        update_if_exists: the job's flag.
        job_start: the server's time at the job's start, if an earlier run recorded it.
        created: uuids of contacts the job already counted as created (earlier runs).
    """

    def __init__(
        self, *, update_if_exists: bool, job_start: datetime | None, created: CompactSet
    ) -> None:
        self._update = update_if_exists
        self.job_start = job_start
        self._created = created

    def learn_start(self, date_header: str | None) -> datetime | None:
        """Set the job's start from the first answer's ``Date``; returns it when newly learnt."""
        if self.job_start is not None:
            return None
        now = server_time(date_header)
        if now is None:
            return None
        self.job_start = now - timedelta(seconds=DATE_RESOLUTION_S)
        return self.job_start

    def _since_start(self, when: datetime | None) -> bool:
        return when is not None and (self.job_start is None or when >= self.job_start)

    def judge(
        self,
        status_code: int,
        headers: Mapping[str, str],
        lead: Any,
        *,
        maybe_sent_before: bool = False,
    ) -> RowStatus:
        """The outcome of one successful upsert whose answer is ``lead``.

        Args:
            status_code: the answer's status.
            headers: the answer's headers.
            lead: the parsed contact.
            maybe_sent_before: whether an earlier attempt of this row may have reached the
                server (retries, a resumed job).
        """
        uuid = getattr(lead, "uuid", None)
        uuid = uuid if isinstance(uuid, str) and uuid else None
        created_at = parse_time(getattr(lead, "created_at", None))
        updated_at = parse_time(getattr(lead, "updated_at", None))
        said = (
            RowStatus.CREATED
            if status_code == 201
            else _OUTCOMES.get(headers.get(OUTCOME_HEADER, "").strip().lower())
        )
        if said is None and self.job_start is None:
            said = (
                RowStatus.CREATED if created_at is not None and created_at == updated_at else None
            )
        created_by_job = (
            (said is None or maybe_sent_before)
            and self.job_start is not None
            and self._since_start(created_at)
            and uuid not in self._created
        )
        if said is RowStatus.CREATED or created_by_job:
            if uuid is None or uuid not in self._created:
                if uuid is not None:
                    self._created.add(uuid)
                return RowStatus.CREATED
            said = RowStatus.UPDATED if self._update else RowStatus.SKIPPED
        if said is not None:
            return said
        if not self._update:
            return RowStatus.SKIPPED
        return RowStatus.UPDATED if self._since_start(updated_at) else RowStatus.SKIPPED
