"""Hazard modules. Importing this package registers them (see hssim.registry)."""

from . import drought  # noqa: F401
