"""Whether a failed request may still have acted on the server (for operations never re-sent).

A refusal (4xx, including a 429 once retries are used up) ran nothing. A 5xx, a timeout or a lost
connection leaves it open: the server may have received the request and acted before the answer
was lost. Mass actions and import starts are never re-sent in that case; their errors say which
items are uncertain instead.
"""

from __future__ import annotations

from ._errors import APIStatusError, GetSalesError, InternalServerError

__all__ = ["may_have_run"]


def may_have_run(error: GetSalesError) -> bool:
    """``False`` only for an answer that refused the request (a 4xx); ``True`` otherwise."""
    return isinstance(error, InternalServerError) or not isinstance(error, APIStatusError)
