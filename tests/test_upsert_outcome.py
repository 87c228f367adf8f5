"""Created, updated or skipped, from the answer, the job's start and the contact's timestamps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from getsales_async import RowStatus
from getsales_async._fingerprints import CompactSet
from getsales_async._upsert_outcome import OutcomeJudge, parse_time, server_time

START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
BEFORE = "2025-12-31T00:00:00.000000Z"
AFTER = "2026-01-01T12:00:05.000000Z"
LATER = "2026-01-01T12:00:09.000000Z"


@dataclass
class Lead:
    uuid: str
    created_at: str | None
    updated_at: str | None


def judge(
    update: bool = True, start: datetime | None = START, created: tuple[str, ...] = ()
) -> OutcomeJudge:
    return OutcomeJudge(update_if_exists=update, job_start=start, created=CompactSet(created))


class TestOutcome:
    @pytest.mark.parametrize(
        ("status", "header", "lead", "update", "again", "expected"),
        [
            (200, "created", Lead("u", AFTER, AFTER), True, False, RowStatus.CREATED),
            (201, "", Lead("u", BEFORE, AFTER), True, False, RowStatus.CREATED),
            (200, "updated", Lead("u", BEFORE, AFTER), True, False, RowStatus.UPDATED),
            (200, "skipped", Lead("u", BEFORE, BEFORE), False, False, RowStatus.SKIPPED),
            # the answer says "updated" for a contact created since the job started: trusted,
            # unless the row may have been sent before (then a lost answer hid the creation)
            (200, "updated", Lead("u", AFTER, LATER), True, False, RowStatus.UPDATED),
            (200, "updated", Lead("u", AFTER, LATER), True, True, RowStatus.CREATED),
            (200, "skipped", Lead("u", AFTER, AFTER), False, True, RowStatus.CREATED),
            # no outcome in the answer: the timestamps decide
            (200, "", Lead("u", AFTER, LATER), True, False, RowStatus.CREATED),
            (200, "", Lead("u", BEFORE, AFTER), True, False, RowStatus.UPDATED),
            (200, "", Lead("u", BEFORE, BEFORE), True, False, RowStatus.SKIPPED),
            (200, "", Lead("u", BEFORE, AFTER), False, True, RowStatus.SKIPPED),
        ],
    )
    def test_the_best_evidence_decides(
        self, status: int, header: str, lead: Lead, update: bool, again: bool, expected: RowStatus
    ) -> None:
        """Status 201 or the outcome header decide, unless a retried row's contact was created by the job."""
        headers = {"x-emulator-upsert": header} if header else {}
        assert judge(update).judge(status, headers, lead, maybe_sent_before=again) is expected

    def test_a_contact_is_created_once_per_job(self) -> None:
        """The second row for a contact this job created is an update, even with the same evidence."""
        j = judge()
        lead = Lead("u", AFTER, AFTER)
        assert [j.judge(200, {}, lead) for _ in range(2)] == [RowStatus.CREATED, RowStatus.UPDATED]

    def test_contacts_created_in_earlier_runs_are_not_created_again(self) -> None:
        """A resumed run knows the contacts earlier runs counted as created."""
        assert judge(created=("u",)).judge(200, {}, Lead("u", AFTER, LATER)) is RowStatus.UPDATED

    def test_without_a_date_header_equal_timestamps_mean_created(self) -> None:
        """With no job start known, created_at == updated_at means created."""
        j = judge(start=None)
        assert j.judge(200, {}, Lead("a", AFTER, AFTER)) is RowStatus.CREATED
        assert j.judge(200, {}, Lead("b", BEFORE, AFTER)) is RowStatus.UPDATED

    def test_the_job_start_is_the_first_date_less_its_resolution(self) -> None:
        """learn_start takes the first Date header, less one second, once."""
        j = judge(start=None)
        assert j.learn_start("Thu, 01 Jan 2026 12:00:01 GMT") == START
        assert j.learn_start("Thu, 01 Jan 2026 13:00:00 GMT") is None and j.job_start == START


class TestTimes:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            ("Fri, 27 Nov 2026 15:00:00 GMT", "2026-11-27T15:00:00+00:00"),
            ("Fri, 27 Nov 2026 15:00:00 -0000", "2026-11-27T15:00:00+00:00"),
            (
                "Fri, 27 Nov 2026 15:00:00 GMT, Fri, 27 Nov 2026 15:00:01 GMT",
                "2026-11-27T15:00:01+00:00",
            ),
            ("not a date", None),
            (None, None),
        ],
    )
    def test_date_headers_parse_to_aware_times_or_none(
        self, header: str | None, expected: str | None
    ) -> None:
        """Date headers give timezone-aware times ("-0000", joined repeats) or None, never a crash."""
        parsed = server_time(header)
        assert (parsed.isoformat() if parsed else None) == expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2026-01-01T12:00:00.500000Z", "2026-01-01T12:00:00.500000+00:00"),
            ("2026-01-01 12:00:00", "2026-01-01T12:00:00+00:00"),
            (datetime(2026, 1, 1), "2026-01-01T00:00:00+00:00"),
            ("yesterday", None),
            (None, None),
        ],
    )
    def test_timestamps_parse_to_aware_times_or_none(
        self, value: object, expected: str | None
    ) -> None:
        """ISO texts (with Z or none) and datetimes become aware times; anything else None."""
        parsed = parse_time(value)
        assert (parsed.isoformat() if parsed else None) == expected
