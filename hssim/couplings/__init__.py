"""Couplings: the explicit links through which hazards compound."""
