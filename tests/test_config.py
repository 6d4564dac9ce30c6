"""Config validation: types, ranges, unknown keys, registry kinds, frozen objects."""

from __future__ import annotations

import dataclasses

import pytest

import hssim
from hssim.config.schema import Config, HouseholdConfig
from hssim.validate import from_mapping
from hssim.errors import ConfigError


def test_defaults_validate_and_are_frozen():
    cfg = hssim.load_config(hssim.compose())
    assert isinstance(cfg, Config)
    assert cfg.hazards["drought"].kind == "drought"
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.hazards["flood"] = None  # read-only mapping


@pytest.mark.parametrize(
    "data,path,fragment",
    [
        ({"p_work": 1.2}, "p_work", "[0.0, 1.0]"),
        ({"p_work": "high"}, "p_work", "a number"),
        ({"p_work": True}, "p_work", "a number"),
        ({"wage_usd_per_day": float("nan")}, "wage_usd_per_day", "finite"),
        ({"kcal_per_person_day": 100}, "kcal_per_person_day", "[500.0, 5000.0]"),
        ({"wage": 3}, "wage", "unknown key"),
    ],
)
def test_household_fields_checked(data, path, fragment):
    with pytest.raises(ConfigError) as err:
        from_mapping(HouseholdConfig, data, "households")
    assert err.value.path == f"households.{path}"
    assert fragment in str(err.value)


def test_integers_and_lists():
    with pytest.raises(ConfigError, match="population.households.*an integer"):
        hssim.load_config({"population": {"households": 2.5}})
    assert hssim.load_config({"population": {"households": 2000.0}}).population.households == 2000
    with pytest.raises(ConfigError, match=r"storyline.events.*a list"):
        hssim.load_config({"storyline": {"events": "drought"}})
    with pytest.raises(ConfigError, match=r"storyline.events\[0\].end.*>= start"):
        hssim.load_config({"storyline": {"events": [{"start": 5, "end": 3}]}})


def test_unknown_hazard_kind_lists_the_registered_ones():
    with pytest.raises(ConfigError, match=r"hazards.locusts.kind.*one of .*'conflict'.*'drought'"):
        hssim.load_config({"hazards": {"locusts": {}}})


def test_storyline_district_must_exist():
    cfg = hssim.compose(["storyline.events=[{start:2,districts:[Atlantis]}]"])
    with pytest.raises(ConfigError, match=r"storyline.events\[0\].districts\[0\].*'Atlantis'"):
        hssim.config.build.prepare(cfg)


def test_every_schema_field_has_a_documented_range_or_type():
    from hssim.config import schema

    for cls in (schema.PopulationConfig, schema.DroughtConfig, schema.FoodSystemConfig, HouseholdConfig, schema.CouplingsConfig):
        for f in dataclasses.fields(cls):
            if f.type in ("float", "int", float, int):
                assert "range" in f.metadata, f"{cls.__name__}.{f.name} has no range"
