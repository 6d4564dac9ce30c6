"""What the benchmark scripts share (imported as ``benchlib``: the scripts run as
``python benchmarks/<script>.py``, which puts this folder on the import path)."""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_result(path: Path, result: dict) -> None:
    """Write ``result`` as indented JSON to ``path`` atomically (a temporary name in the
    same folder, then a rename): an interrupted run leaves the previous file intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, path)
    print(f"wrote {path}")
