"""Compatibility path: the validation helpers live in :mod:`hssim.validate` (the bottom
layer, where every module's config may use them)."""

from ..validate import field_range, from_mapping, to_dict

__all__ = ["field_range", "from_mapping", "to_dict"]
