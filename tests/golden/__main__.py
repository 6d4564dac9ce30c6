"""``python -m tests.golden {regenerate,check,list} [NAME ...]`` from the repository root
(see the package docstring)."""

from . import main

raise SystemExit(main())
