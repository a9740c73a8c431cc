"""``python -m exzarr``: the exzarr command line (see :mod:`exzarr.cli`)."""

from .cli import main

raise SystemExit(main())
