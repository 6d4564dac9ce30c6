"""Figures and reports (matplotlib is imported only here, and only when used)."""
