"""Benchmarks of getsales-async, each with its baseline measured in the same run (STYLE.md rule 21).

``python -m tests.benchmarks`` (``make bench``) runs them all and writes ``docs/benchmarks.md`` and
the rate-over-time plots in ``docs/benchmarks/``; ``--smoke`` runs them with tiny sizes (what
``tests/test_benchmarks_smoke.py`` does, so they cannot rot). One module per benchmark:

- :mod:`.bench_quota`: bulk import at a scaled quota over real HTTP; efficiency and 429s.
- :mod:`.bench_naive`: the same import written the usual way (workers, sleep 15 s on 429) vs the SDK.
- :mod:`.bench_overhead`: CPU per request through the SDK vs raw httpx vs the emulator alone.
- :mod:`.bench_pagination`: reading 10,000 contacts at 50 ms per page, sequential vs prefetching.
- :mod:`.bench_footprint`: import time, regeneration time, peak memory of a streamed CSV import.
- :mod:`.bench_shared_quota`: four processes sharing one quota through Redis.

:mod:`._harness` holds what they share (sizes, result rows, emulator processes, plots, machine facts).
"""
