"""``python -m getsales_async.testing.emulator --port 0 --print-url``: serve the emulator."""

from getsales_async.testing.emulator._main import main

raise SystemExit(main())
