"""Configuration: schema (frozen dataclasses), validation, and building the engine."""

from .build import build_engine, load_config
from .schema import Config

__all__ = ["Config", "load_config", "build_engine"]
