"""Input checks shared by the constructors (``_validation.py``): durations in seconds."""

from __future__ import annotations

import math

import pytest

from getsales_async._validation import seconds_problem


class TestSecondsProblem:
    @pytest.mark.parametrize(
        ("value", "positive", "accepted"),
        [
            (0, False, True),
            (0.0, True, False),
            (2.5, True, True),
            (7, False, True),
            (-0.1, False, False),
            (math.inf, False, False),
            (math.nan, True, False),
            (True, False, False),
            ("5", False, False),
            (None, True, False),
        ],
    )
    def test_finite_numbers_in_range_pass_when_checked(
        self, value: object, positive: bool, accepted: bool
    ) -> None:
        """Finite non-bool numbers >= 0 (above 0 when positive) pass; anything else is named."""
        problem = seconds_problem("wait", value, positive=positive)
        assert (problem is None) is accepted
        if problem is not None:
            kind = "a positive finite number" if positive else "a finite number of seconds >= 0"
            assert problem.startswith(f"wait must be {kind}") and repr(value) in problem
