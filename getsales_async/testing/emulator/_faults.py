"""Seeded fault injection: what can go wrong with a request, decided before it runs.

Faults apply to implemented operations after authentication and the quota check, and (except
``fail_after_commit_rate``) before the operation has any effect. For each eligible request the
injector draws the same three random numbers from a generator seeded by the emulator's ``seed``,
so a run with the same requests in the same order fails in exactly the same places.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Literal

from getsales_async._validation import seconds_problem

__all__ = ["FAULT_KINDS", "FaultConfig", "FaultDecision", "FaultInjector", "ScheduledFault"]

SERVER_ERROR_STATUSES = (502, 503, 504)
INJECTABLE_STATUSES = (500, 502, 503, 504)
BeforeFault = Literal["drop", "error", "429", "empty_body"]
FaultKind = Literal["error", "drop", "429", "empty_body", "fail_after_commit"]
FAULT_KINDS: tuple[FaultKind, ...] = ("error", "drop", "429", "empty_body", "fail_after_commit")


@dataclass(frozen=True)
class FaultConfig:
    """Which faults the emulator injects, and how often (rates are probabilities 0-1 per request).

    Args:
        error_rate: answer 502, 503 or 504 (an even mix) instead of running the operation.
        drop_rate: close the connection without an answer instead of running the operation
            (the client sees ``httpx.RemoteProtocolError``).
        rate_429: answer 429 at random.
        burst_429: ``(every, length)``: the last ``length`` of every ``every`` eligible requests
            get a 429 (e.g. ``(10, 3)``); ``None`` for none.
        retry_after: seconds sent as ``Retry-After`` with injected 429s; ``None`` sends no header
            (as production does).
        empty_body_rate: reads (GETs, searches, counts, lookups) answer 200 with an empty body.
        latency: seconds every eligible request waits first, slept on the emulator's clock.
        latency_for: seconds of latency per operation, keyed by operationId or path pattern
            (``{"searchLeads": 0.4, "/flows/api/*": 0.1}``); applies whatever ``only_paths``
            says, on top of ``latency`` (the largest matching entry counts).
        fail_after_commit_rate: writes run and commit, then the answer is lost: a 502, or a
            dropped connection (``fail_after_commit_mode``). The client cannot tell whether the
            write happened, the case an idempotent retry (upsert) must survive.
        fail_after_commit_mode: ``"502"`` or ``"drop"``.
        only_paths: restrict faults to requests whose operationId or path matches one of these
            (``fnmatch`` patterns such as ``"/leads/api/leads/*"``); ``None`` means all.

    ``error_rate + drop_rate + rate_429 + empty_body_rate`` must not exceed 1: at most one of those
    faults hits a request.

    Example::

        FaultConfig(error_rate=0.1, drop_rate=0.05, latency=0.2, only_paths=["upsertLead"])
    """

    error_rate: float = 0.0
    drop_rate: float = 0.0
    rate_429: float = 0.0
    burst_429: tuple[int, int] | None = None
    retry_after: float | None = None
    empty_body_rate: float = 0.0
    latency: float = 0.0
    latency_for: Mapping[str, float] | None = None
    fail_after_commit_rate: float = 0.0
    fail_after_commit_mode: Literal["502", "drop"] = "502"
    only_paths: Iterable[str] | None = field(default=None)

    def __post_init__(self) -> None:
        problems = []
        rates = ("error_rate", "drop_rate", "rate_429", "empty_body_rate", "fail_after_commit_rate")
        for name in rates:
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
                problems.append(f"{name} must be a probability between 0 and 1, got {value!r}")
        if (
            not problems
            and self.error_rate + self.drop_rate + self.rate_429 + self.empty_body_rate > 1
        ):
            problems.append("error_rate + drop_rate + rate_429 + empty_body_rate must not exceed 1")
        latency_problem = seconds_problem("latency", self.latency)
        if latency_problem:
            problems.append(latency_problem)
        for pattern, seconds in (self.latency_for or {}).items():
            if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0):
                problems.append(f"latency_for[{pattern!r}] must be seconds >= 0, got {seconds!r}")
        if self.retry_after is not None and not (
            math.isfinite(self.retry_after) and self.retry_after >= 0
        ):
            problems.append(f"retry_after must be seconds >= 0 or None, got {self.retry_after!r}")
        if self.burst_429 is not None:
            every, length = self.burst_429
            if not (1 <= length < every):
                problems.append(
                    f"burst_429 is (every, length) with 1 <= length < every, got {self.burst_429!r}"
                )
        if self.fail_after_commit_mode not in ("502", "drop"):
            problems.append(
                f'fail_after_commit_mode is "502" or "drop", got {self.fail_after_commit_mode!r}'
            )
        if isinstance(self.only_paths, str):
            problems.append("only_paths is a collection of patterns; wrap a single one in a list")
        if problems:
            message = f"invalid FaultConfig: {'; '.join(problems)}"
            raise ValueError(message)
        if self.only_paths is not None:
            object.__setattr__(self, "only_paths", tuple(self.only_paths))
        if self.latency_for is not None:
            object.__setattr__(self, "latency_for", dict(self.latency_for))

    def applies_to(self, operation_id: str, path: str) -> bool:
        """Whether faults may hit this request (``only_paths``)."""
        if self.only_paths is None:
            return True
        return any(p == operation_id or fnmatchcase(path, p) for p in self.only_paths)

    def latency_of(self, operation_id: str, path: str) -> float:
        """The ``latency_for`` seconds of this request (0 when no entry matches)."""
        return max(
            (
                float(seconds)
                for pattern, seconds in (self.latency_for or {}).items()
                if pattern == operation_id or fnmatchcase(path, pattern)
            ),
            default=0.0,
        )


@dataclass(frozen=True)
class FaultDecision:
    """The faults chosen for one request."""

    latency: float
    before: BeforeFault | None
    """What happens instead of the operation (``None``: it runs)."""
    status: int
    """The 5xx status for ``before == "error"``."""
    after_commit: bool
    """The write runs, then its answer is replaced (502 or a dropped connection)."""
    retry_after: float | None = None
    """``Retry-After`` seconds of an injected 429 (``None``: the config's, if any)."""

    @property
    def names(self) -> tuple[str, ...]:
        """The faults applied, for the request log."""
        out = []
        if self.latency:
            out.append("latency")
        if self.before is not None:
            out.append(self.before)
        if self.after_commit:
            out.append("fail_after_commit")
        return tuple(out)


@dataclass(frozen=True)
class ScheduledFault:
    """A fault a test asked for on one operation (``GetSalesEmulator.inject_fault``)."""

    kind: FaultKind
    status: int = 503
    retry_after: float | None = None

    def decision(self, latency: float) -> FaultDecision:
        """This fault as the decision of one request."""
        before: BeforeFault | None = None if self.kind == "fail_after_commit" else self.kind
        return FaultDecision(
            latency=latency,
            before=before,
            status=self.status,
            after_commit=self.kind == "fail_after_commit",
            retry_after=self.retry_after,
        )


class FaultInjector:
    """Draws the faults of each request from a seeded generator (see the module docstring).

    Faults scheduled for an operation (:meth:`schedule`) come first, one per request, in order.
    """

    def __init__(self, config: FaultConfig | None, seed: int) -> None:
        self.config = config
        self._rng = random.Random(f"getsales-emulator-faults:{seed}")
        self._eligible = 0
        self._scheduled: dict[str, deque[ScheduledFault]] = {}

    def schedule(self, operation_id: str, fault: ScheduledFault, times: int) -> None:
        """Hit the next ``times`` requests of ``operation_id`` with ``fault``."""
        self._scheduled.setdefault(operation_id, deque()).extend([fault] * times)

    def take(self, operation_id: str, path: str) -> FaultDecision | None:
        """The next scheduled fault of this operation, as a decision (``None``: none left)."""
        waiting = self._scheduled.get(operation_id)
        if not waiting:
            return None
        fault = waiting.popleft()
        latency = 0.0
        if self.config is not None:
            latency = self.config.latency_of(operation_id, path)
        return fault.decision(latency)

    def decide(
        self, operation_id: str, path: str, *, read: bool, write: bool
    ) -> FaultDecision | None:
        """The faults for a request, or ``None`` when none apply.

        Args:
            operation_id: the matched operation.
            path: the request path (for ``only_paths``).
            read: the operation only reads (empty bodies may hit it).
            write: the operation changes state (``fail_after_commit_rate`` may hit it).
        """
        config = self.config
        if config is None:
            return None
        extra = config.latency_of(operation_id, path)
        if not config.applies_to(operation_id, path):
            return FaultDecision(extra, None, 0, after_commit=False) if extra else None
        self._eligible += 1
        pick, kind, commit = self._rng.random(), self._rng.random(), self._rng.random()
        before: BeforeFault | None = None
        if config.burst_429 is not None:
            every, length = config.burst_429
            if (self._eligible - 1) % every >= every - length:
                before = "429"
        if before is None:
            edges: list[tuple[float, BeforeFault]] = [
                (config.drop_rate, "drop"),
                (config.error_rate, "error"),
                (config.rate_429, "429"),
                (config.empty_body_rate, "empty_body"),
            ]
            bound = 0.0
            for rate, name in edges:
                bound += rate
                if pick < bound:
                    before = name
                    break
        if before == "empty_body" and not read:
            before = None
        decision = FaultDecision(
            latency=float(config.latency) + extra,
            before=before,
            status=SERVER_ERROR_STATUSES[int(kind * len(SERVER_ERROR_STATUSES))],
            after_commit=write and before is None and commit < config.fail_after_commit_rate,
        )
        return decision if decision.names else None
