"""``python -m getsales_async``: the ``getsales`` command line."""

from ._cli import main

raise SystemExit(main())
