"""A retry budget per API key: the AWS SDKs' standard-mode retry quota, a token bucket.

Retries help when failures are rare and independent; when most recent attempts fail (the server
is down, or every request meets a 429), each retry only adds load and time. The budget bounds
that: every retry withdraws tokens, every success puts some back, and a call whose retry cannot
be paid fails at once with its last error.

Why this design and not Finagle's ``RetryBudget`` (retries up to 20 % of the requests of a sliding
10 s window, plus a floor of retries per second): the bucket needs no clock and no window of
timestamps, it behaves identically in virtual and real time, and it *stops* retrying against a
server that never succeeds, where Finagle's floor keeps retrying at a fixed rate for as long as
the outage lasts. That is what makes a storm's duration boundable (``docs/shared-quota.md``,
"Storms"): from a full bucket of ``capacity`` tokens, a key gets at most
``capacity // throttle_cost`` retries after 429s (10 with the defaults) before some call succeeds
again.

Rules (AWS SDK standard mode, with the constants of :mod:`getsales_async._config`):

- a retry withdraws ``retry_cost`` tokens (5), or ``throttle_cost`` (10) after a 429 or a timeout;
- a call that succeeds on its first attempt deposits ``success_credit`` (1);
- a call that succeeds after retrying deposits what its last retry withdrew;
- the bucket never holds more than ``capacity`` (100) and starts full.

Every client of a key in one process shares its budget (:func:`shared_retry_budget`), like the
rate limiter. Processes sharing a key through Redis each keep their own budget.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

from ._config import (
    RETRY_BUDGET_CAPACITY,
    RETRY_BUDGET_COST,
    RETRY_BUDGET_SUCCESS_CREDIT,
    RETRY_BUDGET_THROTTLE_COST,
)
from ._errors import ArgumentError

if TYPE_CHECKING:
    from ._statistics import RetryBudgetStatistics

__all__ = ["RetryBudget", "shared_retry_budget"]


class RetryBudget:
    """A token bucket that pays for retries; successes refill it (AWS standard retry mode).

    Args:
        capacity: Most tokens held; the bucket starts full. ``0`` disables retrying entirely.
        retry_cost: Tokens a retry after a 5xx, an empty answer or a connection error costs.
        throttle_cost: Tokens a retry after a 429 or a timeout costs.
        success_credit: Tokens a call that succeeds on its first attempt deposits.

    Example::

        client = AsyncGetSales(retry_budget=RetryBudget(capacity=200))
    """

    def __init__(
        self,
        capacity: int = RETRY_BUDGET_CAPACITY,
        *,
        retry_cost: int = RETRY_BUDGET_COST,
        throttle_cost: int = RETRY_BUDGET_THROTTLE_COST,
        success_credit: int = RETRY_BUDGET_SUCCESS_CREDIT,
    ) -> None:
        for name, value in (
            ("capacity", capacity),
            ("retry_cost", retry_cost),
            ("throttle_cost", throttle_cost),
            ("success_credit", success_credit),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                message = f"RetryBudget {name} must be an int >= 0, got {value!r}"
                raise ArgumentError(message)
        self.capacity = capacity
        self.retry_cost = retry_cost
        self.throttle_cost = throttle_cost
        self.success_credit = success_credit
        self._tokens = capacity
        self._withdrawn = 0
        self._refused = 0

    @property
    def tokens(self) -> int:
        """Tokens in the bucket now."""
        return self._tokens

    def withdraw(self, *, throttled: bool) -> int | None:
        """Pay for one retry: the tokens taken, or ``None`` (nothing taken) if the bucket cannot.

        Args:
            throttled: The failure was a 429 or a timeout (costs ``throttle_cost``).
        """
        cost = self.throttle_cost if throttled else self.retry_cost
        if cost > self._tokens or self.capacity == 0:
            self._refused += 1
            return None
        self._tokens -= cost
        self._withdrawn += 1
        return cost

    def deposit(self, tokens: int) -> None:
        """Return ``tokens`` after a success (capped at ``capacity``)."""
        self._tokens = min(self.capacity, self._tokens + max(0, tokens))

    def on_success(self, last_retry_cost: int) -> None:
        """Record a successful call: its last retry's cost back, or the credit if none."""
        self.deposit(last_retry_cost if last_retry_cost > 0 else self.success_credit)

    def statistics(self) -> RetryBudgetStatistics:
        """A snapshot of the bucket."""
        from ._statistics import RetryBudgetStatistics  # on first use

        return RetryBudgetStatistics(
            capacity=self.capacity,
            tokens=self._tokens,
            withdrawn=self._withdrawn,
            refused=self._refused,
        )

    def __repr__(self) -> str:
        return (
            f"<RetryBudget tokens={self._tokens}/{self.capacity}, retry_cost={self.retry_cost}, "
            f"throttle_cost={self.throttle_cost}, refused={self._refused}>"
        )


_registry: weakref.WeakValueDictionary[str, RetryBudget] = weakref.WeakValueDictionary()
_registry_lock = threading.Lock()


def shared_retry_budget(fingerprint: str) -> RetryBudget:
    """The process-wide default retry budget of an API key (by its fingerprint).

    Args:
        fingerprint: :func:`getsales_async._limiter.key_fingerprint` of the key.

    Returns:
        The existing budget of the key, or a new full one; forgotten once no client holds it.
    """
    with _registry_lock:
        budget = _registry.get(fingerprint)
        if budget is None:
            budget = RetryBudget()
            _registry[fingerprint] = budget
        return budget
