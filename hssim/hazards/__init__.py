"""Hazard modules. Importing this package registers them (see hssim.registry)."""

from . import conflict, disease, drought  # noqa: F401
