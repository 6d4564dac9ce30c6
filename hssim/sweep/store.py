"""The sharded, resumable result store of a sweep.

Layout of a store folder::

    experiment.json          the plan: experiment, SALib problem, sample, arms'
                             resolved configs, chunking, fingerprint (written once)
    manifest.json            status of every chunk (rewritten by the driver)
    shards/chunk-00007.parquet       rows of chunk 7, written atomically
    shards/chunk-00007.started.json  marker while chunk 7 runs (job id, host, pid)
    shards/chunk-00007.error.json    why chunk 7 failed (removed when it is re-run)
    analysis/                indices, tables and figures (hssim-sweep-analyse)
    hydra/<time>/            Hydra's job folders (and submitit's logs)

A shard holds one row per run: ``point, replicate, arm, seed``, the parameter
values ``x:<name>``, the outputs ``y:<name>``, ``wall_s`` and ``household_months``.
Its parquet metadata (key ``hssim``) records the chunk, its points, the store's
fingerprint, the Slurm job id (if any), host, pid, launcher, threads and times.
Only a shard whose fingerprint matches the store counts; everything else is
recomputed. The fingerprint follows the one rule of :func:`hssim.runs.fingerprint`
(the package version is part of it: a store planned by another hssim version is
refused rather than mixed with new runs). Every file is written under a temporary name and renamed, so an
interrupted sweep never leaves a half-written shard behind.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UserError
from ..results import atomic_write
from ..runs.store import fingerprint  # noqa: F401  the one fingerprint rule, re-exported

__all__ = ["Store", "ChunkStatus", "fingerprint", "FORMAT"]

FORMAT = 1
_META_KEY = b"hssim"


def _write_json(path: Path, data: Any) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(data, indent=2, default=str) + "\n"))


@dataclass
class ChunkStatus:
    """Where one chunk stands: ``done``, ``failed`` (with ``error``), ``lost``
    (started, then ended without a result or an error: killed, or still running)
    or ``pending``."""

    chunk: int
    lo: int
    hi: int
    status: str
    rows: int = 0
    job_id: str = ""
    host: str = ""
    wall_s: float = 0.0
    household_months: int = 0
    finished: str = ""
    error: str = ""
    meta: dict = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "meta"}
        return d


class Store:
    """A sweep's folder (see the module docstring)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()
        self._header: dict | None = None

    # ---- paths
    @property
    def header_file(self) -> Path:
        return self.root / "experiment.json"

    @property
    def manifest_file(self) -> Path:
        return self.root / "manifest.json"

    @property
    def shards(self) -> Path:
        return self.root / "shards"

    @property
    def analysis_dir(self) -> Path:
        return self.root / "analysis"

    def shard(self, chunk: int) -> Path:
        return self.shards / f"chunk-{chunk:05d}.parquet"

    def error_file(self, chunk: int) -> Path:
        return self.shards / f"chunk-{chunk:05d}.error.json"

    def started_file(self, chunk: int) -> Path:
        return self.shards / f"chunk-{chunk:05d}.started.json"

    # ---- header
    def exists(self) -> bool:
        return self.header_file.is_file()

    def header(self) -> dict:
        if self._header is None:
            try:
                self._header = json.loads(self.header_file.read_text())
            except FileNotFoundError:
                raise UserError(f"{self.root}: not a sweep store (no experiment.json); run hssim-sweep first") from None
            except json.JSONDecodeError as exc:
                raise UserError(f"{self.header_file}: unreadable ({exc})") from None
        return self._header

    def create_or_check(self, header: dict) -> bool:
        """Write the plan into a new store, or check an existing store holds the same
        plan. Returns True when the store already existed.

        Raises
        ------
        UserError  when the folder holds another experiment or another chunking.
        """
        if self.exists():
            old = self.header()
            if old.get("fingerprint") != header["fingerprint"]:
                raise UserError(
                    f"store {self.root} holds another experiment ({old.get('experiment', {}).get('name')!r}, "
                    f"fingerprint {old.get('fingerprint')}; this one is {header['fingerprint']}), or one planned "
                    "by another hssim version: choose another store=... or remove that folder"
                )
            if old.get("chunk_size") != header["chunk_size"]:
                raise UserError(
                    f"store {self.root} was chunked with chunk_size={old.get('chunk_size')}; "
                    f"pass chunk_size={old.get('chunk_size')} (results do not depend on it) or use another store=..."
                )
            return True
        self.shards.mkdir(parents=True, exist_ok=True)
        _write_json(self.header_file, header)
        self._header = header
        return False

    def sample(self) -> np.ndarray:
        """float64[n_points, n_params] of the plan."""
        return np.asarray(self.header()["sample"], dtype=np.float64).reshape(self.header()["n_points"], -1)

    def chunk_bounds(self, chunk: int) -> tuple[int, int]:
        h = self.header()
        lo = chunk * h["chunk_size"]
        return lo, min(h["n_points"], lo + h["chunk_size"])

    # ---- shards
    def write_shard(self, chunk: int, frame: pd.DataFrame, meta: dict) -> Path:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        md = dict(table.schema.metadata or {})
        md[_META_KEY] = json.dumps(meta, default=str).encode()
        table = table.replace_schema_metadata(md)
        path = self.shard(chunk)
        atomic_write(path, lambda p: pq.write_table(table, p))
        return path

    def shard_meta(self, chunk: int) -> dict | None:
        """The metadata of chunk's shard if it exists, is readable and belongs to
        this store's plan; else None."""
        import pyarrow.parquet as pq

        path = self.shard(chunk)
        if not path.is_file():
            return None
        try:
            md = pq.read_schema(path).metadata or {}
            meta = json.loads(md[_META_KEY])
        except Exception:  # an unreadable file is recomputed, never trusted
            return None
        lo, hi = self.chunk_bounds(chunk)
        if meta.get("fingerprint") != self.header()["fingerprint"] or (meta.get("lo"), meta.get("hi")) != (lo, hi):
            return None
        return meta

    def status(self) -> list[ChunkStatus]:
        out = []
        for c in range(self.header()["n_chunks"]):
            lo, hi = self.chunk_bounds(c)
            meta = self.shard_meta(c)
            if meta is not None:
                out.append(ChunkStatus(c, lo, hi, "done", rows=meta["rows"], job_id=meta.get("job_id", ""),
                                       host=meta.get("host", ""), wall_s=meta.get("wall_s", 0.0),
                                       household_months=meta.get("household_months", 0),
                                       finished=meta.get("finished", ""), meta=meta))
                continue
            err = self._read_json(self.error_file(c))
            if err is not None:
                out.append(ChunkStatus(c, lo, hi, "failed", job_id=err.get("job_id", ""), host=err.get("host", ""),
                                       finished=err.get("finished", ""), error=err.get("error", "unknown error"), meta=err))
                continue
            started = self._read_json(self.started_file(c))
            if started is not None:
                job = started.get("job_id") or "a local process"
                out.append(ChunkStatus(c, lo, hi, "lost", job_id=started.get("job_id", ""), host=started.get("host", ""),
                                       error=f"started as {'Slurm job ' + job if started.get('job_id') else job} "
                                             f"(pid {started.get('pid')}) on {started.get('host')} at {started.get('started')} "
                                             "and ended without a result or an error: killed (time limit, memory, signal) "
                                             "or still running",
                                       meta=started))
                continue
            out.append(ChunkStatus(c, lo, hi, "pending"))
        return out

    @staticmethod
    def _read_json(path: Path) -> dict | None:
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def write_manifest(self, statuses: list[ChunkStatus], extra: dict | None = None) -> None:
        h = self.header()
        counts = {s: sum(1 for c in statuses if c.status == s) for s in ("done", "failed", "lost", "pending")}
        _write_json(self.manifest_file, {
            "format": FORMAT,
            "experiment": h["experiment"]["name"],
            "fingerprint": h["fingerprint"],
            "n_points": h["n_points"],
            "n_chunks": h["n_chunks"],
            "chunk_size": h["chunk_size"],
            "counts": counts,
            "complete": counts["done"] == h["n_chunks"],
            **(extra or {}),
            "chunks": [c.as_dict() for c in statuses],
        })

    def load(self, require_complete: bool = True) -> pd.DataFrame:
        """All runs of the valid shards, sorted by ``point, replicate, arm``.

        Raises
        ------
        UserError  when ``require_complete`` and some chunk has no valid shard.
        """
        statuses = self.status()
        missing = [c.chunk for c in statuses if c.status != "done"]
        if missing and require_complete:
            shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
            raise UserError(f"store {self.root} is incomplete: {len(missing)} of {len(statuses)} chunks have no result "
                            f"({shown}); run the same hssim-sweep command again to compute them")
        frames = [pd.read_parquet(self.shard(c.chunk)) for c in statuses if c.status == "done"]
        if not frames:
            return pd.DataFrame()
        arms = list(self.header()["arms"])
        df = pd.concat(frames, ignore_index=True)
        df["arm"] = pd.Categorical(df["arm"].astype(str), categories=arms)
        return df.sort_values(["point", "replicate", "arm"], kind="stable").reset_index(drop=True)
