"""Hazard modules. Importing this package registers them (see hssim.registry)."""

from . import (  # noqa: F401
    conflict,
    disease,  # noqa: F401
    drought,
)
