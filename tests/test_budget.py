"""RetryBudget: the per-key token bucket that pays for retries (AWS SDK standard retry mode)."""

from __future__ import annotations

import gc
import uuid

import pytest

from getsales_async import ArgumentError, AsyncGetSales, RetryBudget
from getsales_async._budget import shared_retry_budget
from getsales_async._config import (
    RETRY_BUDGET_CAPACITY,
    RETRY_BUDGET_COST,
    RETRY_BUDGET_SUCCESS_CREDIT,
    RETRY_BUDGET_THROTTLE_COST,
)
from getsales_async._limiter import key_fingerprint


class TestBucket:
    def test_defaults_come_from_config_and_start_full(self) -> None:
        """A new budget holds its capacity, with the documented costs and credit."""
        budget = RetryBudget()
        assert budget.tokens == budget.capacity == RETRY_BUDGET_CAPACITY == 100
        assert (budget.retry_cost, budget.throttle_cost) == (
            RETRY_BUDGET_COST,
            RETRY_BUDGET_THROTTLE_COST,
        )
        assert budget.success_credit == RETRY_BUDGET_SUCCESS_CREDIT

    def test_withdraw_takes_the_throttle_price_for_429s_and_timeouts(self) -> None:
        """A throttled retry costs 10 tokens, any other 5."""
        budget = RetryBudget()
        assert budget.withdraw(throttled=True) == 10
        assert budget.withdraw(throttled=False) == 5
        assert budget.tokens == 85

    def test_withdraw_refuses_when_the_bucket_cannot_pay(self) -> None:
        """An empty bucket refuses (nothing taken); from full, 10 throttled retries fit."""
        budget = RetryBudget()
        paid = [budget.withdraw(throttled=True) for _ in range(11)]
        assert paid == [10] * 10 + [None]
        assert budget.tokens == 0
        stats = budget.statistics()
        assert (stats.withdrawn, stats.refused) == (10, 1)

    def test_success_refills_by_credit_or_by_the_last_retry_cost(self) -> None:
        """A first-attempt success adds 1; a success after a retry returns that retry's cost."""
        budget = RetryBudget(capacity=20)
        budget.withdraw(throttled=True)
        budget.on_success(0)
        assert budget.tokens == 11
        budget.on_success(10)
        assert budget.tokens == 20  # capped at capacity
        budget.on_success(0)
        assert budget.tokens == 20

    def test_zero_capacity_disables_retrying(self) -> None:
        """capacity=0 refuses every retry, even one with cost 0."""
        budget = RetryBudget(capacity=0, retry_cost=0)
        assert budget.withdraw(throttled=False) is None

    @pytest.mark.parametrize(
        "kwargs",
        [{"capacity": -1}, {"retry_cost": 1.5}, {"throttle_cost": True}, {"success_credit": -2}],
    )
    def test_invalid_settings_are_refused(self, kwargs: dict[str, object]) -> None:
        """Negative, fractional or boolean settings raise ArgumentError naming the setting."""
        with pytest.raises(ArgumentError, match="RetryBudget"):
            RetryBudget(**kwargs)  # type: ignore[arg-type]

    def test_repr_shows_tokens(self) -> None:
        """The repr shows the live token count."""
        assert "tokens=100/100" in repr(RetryBudget())


class TestSharing:
    async def test_clients_of_one_key_share_one_budget(self) -> None:
        """Two clients with one key draw from one bucket; another key has its own."""
        key = f"budget-{uuid.uuid4().hex}"
        async with (
            AsyncGetSales(api_key=key, base_url="https://api.test") as one,
            AsyncGetSales(api_key=key, base_url="https://api.test") as two,
            AsyncGetSales(api_key=key + "x", base_url="https://api.test") as other,
        ):
            assert one.retry_budget is two.retry_budget
            assert one.retry_budget is not other.retry_budget

    async def test_explicit_budget_is_used(self) -> None:
        """retry_budget= replaces the key's shared budget for that client."""
        own = RetryBudget(capacity=7)
        async with AsyncGetSales(
            api_key=f"budget-{uuid.uuid4().hex}", base_url="https://api.test", retry_budget=own
        ) as client:
            assert client.retry_budget is own

    def test_registry_forgets_a_budget_once_unused(self) -> None:
        """The shared budget lives only while something holds it."""
        fingerprint = key_fingerprint(f"budget-{uuid.uuid4().hex}")
        budget = shared_retry_budget(fingerprint)
        budget.withdraw(throttled=True)
        assert shared_retry_budget(fingerprint) is budget
        del budget
        gc.collect()
        assert shared_retry_budget(fingerprint).tokens == RETRY_BUDGET_CAPACITY


pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Construction only: one backend is enough."""
    return "asyncio"
