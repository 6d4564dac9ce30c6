"""Household processes (livelihoods, food, coping, assets, malnutrition, mortality)."""
