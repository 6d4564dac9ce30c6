"""The fingerprint rule, and a folder of finished runs that lets work resume.

**Fingerprint** (:func:`fingerprint`): the first 20 hex digits of the SHA-256 of the
JSON text of ``{**content, "hssim": <package version>}`` with sorted keys (Python's
default separators; values JSON cannot hold written with ``str``). ``content`` holds
everything that decides a result: a run's validated config (seed included), a
sweep's experiment, arms and sample. The package version is part of it, so work
stored by another hssim version is never mixed with new runs (it is run again, or
a store made by another version is refused); within one version a change of code
that alters results must come with a changed version or a new store.

**Run store** (:class:`RunStore`): one JSON file per finished run,
``<root>/runs/<key>__r<replicate>.json``, holding the run's key, replicate, seed,
fingerprint, wall time and its payload (outcomes, costs). Each file is written
through a temporary name and renamed; a file whose key, seed or fingerprint does not
match the run asked for is ignored, so a changed config runs again.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..results import atomic_write
from ..version import __version__

__all__ = ["FINGERPRINT_DIGITS", "RunStore", "fingerprint", "jsonable"]

FINGERPRINT_DIGITS = 20


def fingerprint(content: Mapping[str, Any]) -> str:
    """The fingerprint of what decides a result (see the module docstring)."""
    text = json.dumps({**content, "hssim": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_DIGITS]


def jsonable(x: Any) -> Any:
    """``x`` with NumPy scalars and arrays as Python values, non-finite floats as None
    (JSON has no NaN), mapping keys as strings."""
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else None
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    return x


def _slug(key: str) -> str:
    """A file-name-safe form of a run key (unchanged when already safe)."""
    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,80}", key):
        return key
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "_", key).strip("._")[:60] or "arm"
    return f"{clean}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"


class RunStore:
    """Finished runs under ``root/runs/`` (see the module docstring)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def prepare(self) -> None:
        """Create ``root/runs/`` (and ``root``) if needed."""
        (self.root / "runs").mkdir(parents=True, exist_ok=True)

    def path(self, key: str, replicate: int) -> Path:
        """Where run ``replicate`` of ``key`` (an arm) is stored."""
        return self.root / "runs" / f"{_slug(key)}__r{replicate}.json"

    def load(self, key: str, replicate: int, seed: int, fp: str) -> dict | None:
        """The stored document of this run when its key, seed and fingerprint match; else None."""
        path = self.path(key, replicate)
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(doc, dict) or doc.get("arm") != key or doc.get("seed") != seed or doc.get("fingerprint") != fp:
            return None
        return doc

    def save(self, key: str, replicate: int, seed: int, fp: str, payload: Mapping[str, Any], wall_s: float) -> Path:
        """Store a finished run (``payload``: its outcomes, costs, ...), atomically."""
        doc = {"arm": key, "replicate": replicate, "seed": seed, "fingerprint": fp, "wall_s": round(wall_s, 3), **payload}
        text = json.dumps(jsonable(doc), indent=1) + "\n"
        path = self.path(key, replicate)
        atomic_write(path, lambda q: q.write_text(text))
        return path

    def write_json(self, name: str, data: Any) -> Path:
        """Write ``root/<name>`` (e.g. the plan a resume needs), atomically."""
        text = json.dumps(jsonable(data), indent=2) + "\n"
        path = self.root / name
        atomic_write(path, lambda q: q.write_text(text))
        return path
