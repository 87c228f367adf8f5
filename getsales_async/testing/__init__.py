"""Test helpers for code that uses getsales-async: run it in virtual time, on asyncio or trio."""

from __future__ import annotations

from getsales_async.testing._clock import VirtualClock

__all__ = ["VirtualClock"]
