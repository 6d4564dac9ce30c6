"""The phase order of one tick (one month).

Information flows one way per tick::

    CLIMATE -> HAZARD -> IMPACT -> POLICY -> ALLOCATION -> INTERVENTION -> HOUSEHOLD -> MOVEMENT -> OUTCOME

Modules declare their phase; the engine orders them by ``(phase, name)``, never by
their position in a config list. Modules in the same phase must not read what
another module of that phase writes in the same tick (hazards, for instance, read
only last month's state and their own random streams).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Phase"]


class Phase(IntEnum):
    CLIMATE = 50  #: rainfall and drought indices: exogenous, read by the hazards of the same month
    HAZARD = 100  #: conflict events, infections: this month's climate + last month's state
    IMPACT = 200  #: couplings: hazards -> production, prices, labour, services
    POLICY = 300  #: read indicators, forecasts; emit warnings and triggers
    ALLOCATION = 350  #: money, targeting, the registry: who receives what this month
    INTERVENTION = 400  #: targeting, delivery, effects on household and district state
    HOUSEHOLD = 500  #: livelihoods, food, coping, assets, malnutrition, mortality
    MOVEMENT = 550  #: flight, destination choice, return (takes effect next month)
    OUTCOME = 600  #: indicators derived from the updated state
