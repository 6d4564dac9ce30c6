"""Hazard modules. Importing this package registers them (see hssim.registry)."""

from . import conflict, drought  # noqa: F401
from . import disease  # noqa: F401
