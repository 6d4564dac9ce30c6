"""The result of a policy comparison, :class:`ComparisonResult`: built from a tidy runs
table (:meth:`ComparisonResult.from_runs`), with its views (the terminal table, the
trigger table, the findings) and its output (JSON, CSV, figures, HTML)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..runs.store import jsonable as _jsonable
from ..results import atomic_write
from .narrative import findings
from .outcomes import SCALE, ZERO_IF_MISSING
from .stats import BOOTSTRAP_SEED, LEVEL, N_BOOT
from .tables import (
    cost_breakdown,
    cost_effectiveness,
    cost_summary,
    count_scale,
    default_pairs,
    early_vs_late,
    paired_differences,
    per_dollar,
    avoided_losses,
)
from .wording import _count, _money, _signed

# -- the result --------------------------------------------------------------------------


@dataclass
class ComparisonResult:
    """A policy comparison.

    Attributes
    ----------
    runs : DataFrame  tidy: ``arm, replicate, seed, outcome, value`` (one row per run and outcome)
    differences : DataFrame  paired differences arm - reference (:func:`paired_differences`)
    costs : DataFrame  cost per arm (:func:`cost_summary`)
    cost_effectiveness : DataFrame  (:func:`cost_effectiveness`)
    per_dollar : DataFrame  outcomes averted per million USD of extra spend (:func:`per_dollar`)
    avoided_losses : DataFrame  the benefit's components, discounted, with the BCR (:func:`avoided_losses`)
    early_vs_late : DataFrame  (:func:`early_vs_late`)
    cost_breakdown : DataFrame  mean cost by arm and intervention (empty without cost tables)
    cost_runs : DataFrame  per run: ``arm, replicate, intervention, kind, sector, cost_usd,
        household_months_served``
    arms : dict  arm -> its overrides, in order
    reference : str
    meta : dict  seeds, scenario, horizon, overrides, fingerprints, timing
    """

    runs: pd.DataFrame
    differences: pd.DataFrame
    costs: pd.DataFrame
    cost_effectiveness: pd.DataFrame
    early_vs_late: pd.DataFrame
    cost_breakdown: pd.DataFrame
    cost_runs: pd.DataFrame
    arms: dict[str, list[str]]
    reference: str
    meta: dict[str, Any] = field(default_factory=dict)
    per_dollar: pd.DataFrame = field(default_factory=pd.DataFrame)
    avoided_losses: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def from_runs(
        cls,
        runs: pd.DataFrame,
        arms: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
        reference: str | None = None,
        cost_runs: pd.DataFrame | None = None,
        pairs: Sequence[tuple[str, str]] | None = None,
        meta: Mapping[str, Any] | None = None,
        n_boot: int = N_BOOT,
        bootstrap_seed: int = BOOTSTRAP_SEED,
    ) -> "ComparisonResult":
        """Analyse a tidy runs table (``arm, replicate, seed, outcome, value``).

        ``arms`` gives the order (default: order of appearance); ``reference`` the arm
        the others are compared with (default: the first); ``pairs`` the (early,
        late) pairs in addition to :func:`default_pairs`.
        """
        runs = runs.copy()
        if "seed" not in runs.columns:
            runs["seed"] = runs["replicate"]
        runs = runs[["arm", "replicate", "seed", "outcome", "value"]]
        runs["arm"] = runs["arm"].astype(str)
        runs["outcome"] = runs["outcome"].astype(str)
        runs["value"] = runs["value"].astype(np.float64)
        runs = _with_zero_costs(runs)
        if arms is None:
            arms = {a: [] for a in dict.fromkeys(runs["arm"])}
        elif not isinstance(arms, Mapping):
            arms = {a: [f"policy={a}"] for a in arms}
        arms = {str(k): list(v) for k, v in arms.items()}
        order = list(arms)
        ref = order[0] if reference is None else reference
        if ref not in order:
            raise ValueError(f"reference {ref!r} is not an arm ({', '.join(order)})")
        all_pairs = _merge_pairs(default_pairs(order), pairs or [])
        cost_runs = cost_runs if cost_runs is not None else pd.DataFrame(
            columns=["arm", "replicate", "intervention", "kind", "sector", "cost_usd", "household_months_served"])
        meta = dict(meta or {})
        meta.setdefault("replicates", int(runs["replicate"].nunique()))
        meta["reference"] = ref
        meta["early_vs_late_pairs"] = [list(p) for p in all_pairs]
        meta["n_boot"] = int(n_boot)
        meta["bootstrap_seed"] = int(bootstrap_seed)
        meta["level"] = LEVEL
        meta["real_households_per_simulated"] = (
            float(count_scale(runs).mean()) if (runs["outcome"] == SCALE).any() else None)
        return cls(
            runs=runs.reset_index(drop=True),
            differences=paired_differences(runs, ref, order),
            costs=cost_summary(runs, ref, order),
            cost_effectiveness=cost_effectiveness(runs, ref, order, n_boot, bootstrap_seed),
            early_vs_late=early_vs_late(runs, all_pairs, ref, n_boot, bootstrap_seed),
            cost_breakdown=cost_breakdown(cost_runs, runs, order),
            cost_runs=cost_runs.reset_index(drop=True),
            arms=arms,
            reference=ref,
            meta=meta,
            per_dollar=per_dollar(runs, ref, order),
            avoided_losses=avoided_losses(runs, ref, order),
        )

    # -- views ---------------------------------------------------------------------------
    def difference(self, arm: str, outcome: str) -> pd.Series:
        """The row of :attr:`differences` for ``arm`` and ``outcome``."""
        d = self.differences
        sel = d[(d["arm"] == arm) & (d["outcome"] == outcome)]
        if sel.empty:
            raise KeyError(f"no difference for arm {arm!r} and outcome {outcome!r}")
        return sel.iloc[0]

    def trigger_table(self) -> pd.DataFrame:
        """Mean trigger performance per arm (empty when no run recorded triggers):
        ``arm, trigger_hits, trigger_misses, trigger_false_alarms, hit_rate,
        false_alarm_ratio, cost_in_vain_usd``."""
        names = ["trigger_hits", "trigger_misses", "trigger_false_alarms"]
        sel = self.runs[self.runs["outcome"].isin(names + ["cost_in_vain_usd"])]
        if not sel["outcome"].isin(names).any():
            return pd.DataFrame(columns=["arm", *names, "hit_rate", "false_alarm_ratio", "cost_in_vain_usd"])
        m = sel.pivot_table(index="arm", columns="outcome", values="value", aggfunc="mean")
        m = m.reindex([a for a in self.arms if a in m.index])
        for c in [*names, "cost_in_vain_usd"]:
            if c not in m.columns:
                m[c] = np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            hits, misses, fa = m["trigger_hits"], m["trigger_misses"], m["trigger_false_alarms"]
            m["hit_rate"] = hits / (hits + misses)
            m["false_alarm_ratio"] = fa / (hits + fa)
        m = m.dropna(subset=names, how="all")
        return m.reset_index()[["arm", *names, "hit_rate", "false_alarm_ratio", "cost_in_vain_usd"]]

    def summary_sentences(self) -> list[str]:
        """Main findings in plain language, computed from the tables."""
        return findings(self)

    # -- output --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready view (NaN and inf -> null; notes say why)."""
        return _jsonable(
            {
                "arms": self.arms,
                "reference": self.reference,
                "meta": self.meta,
                "findings": self.summary_sentences(),
                "definitions": {
                    "mean_diff": "mean over replicates of (arm - reference) on the same seed",
                    "ci_low/ci_high": "95% paired t interval of the mean difference",
                    "share_better": "share of replicates where the arm is strictly better than the reference",
                    "cost_per_<x>_averted": "mean incremental cost / mean <x> averted (ratio of means); "
                                            "95% percentile paired bootstrap; null with note 'not averted' "
                                            "when nothing is averted on average",
                    "benefit_usd": "avoided losses, discounted to the start of the horizon: (food_gap_usd_pv_ref - "
                                   "food_gap_usd_pv_arm) + (assets_end_usd_pv_arm - assets_end_usd_pv_ref) + "
                                   "(savings_end_usd_pv_arm - savings_end_usd_pv_ref) + (debt_end_usd_pv_ref - "
                                   "debt_end_usd_pv_arm) + (need_usd_pv_ref - need_usd_pv_arm); need = IPC3+ person-months at "
                                   "valuation.response_cost_usd_per_person_month (runs without the discounted "
                                   "outcomes: the undiscounted food gap and assets)",
                    "benefit_cost_ratio": "mean benefit_usd / mean discounted incremental cost",
                    "<x>_averted_per_musd": "mean <x> averted (real population) / mean extra spend over the "
                                            "reference in millions of USD; 95% percentile paired bootstrap",
                    "undefined ratio": "null with the reason in 'note' when the 95% interval of its denominator "
                                       "includes zero",
                    "incremental_bcr": "(benefit_early - benefit_late) / (cost_early - cost_late)",
                    "bcr_ratio": "BCR_early / BCR_late",
                },
                "differences": self.differences.to_dict(orient="records"),
                "costs": self.costs.to_dict(orient="records"),
                "cost_breakdown": self.cost_breakdown.to_dict(orient="records"),
                "cost_effectiveness": self.cost_effectiveness.to_dict(orient="records"),
                "per_dollar": self.per_dollar.to_dict(orient="records"),
                "avoided_losses": self.avoided_losses.to_dict(orient="records"),
                "early_vs_late": self.early_vs_late.to_dict(orient="records"),
                "triggers": self.trigger_table().to_dict(orient="records"),
            }
        )

    def save(self, path: str | os.PathLike, extras: Mapping[str, Any] | None = None) -> Path:
        """Write ``runs.csv``, ``differences.csv``, ``costs.csv``, ``cost_breakdown.csv``,
        ``cost_effectiveness.csv``, ``per_dollar.csv``, ``avoided_losses.csv``, ``early_vs_late.csv`` and ``comparison.json`` into
        the folder ``path`` (created if needed); the figures and ``report.html`` come
        from the report layer (:func:`hssim.report.html.save_comparison` writes them
        through ``extras``: file name -> ``write(temporary_path)``). Each file is written
        under a temporary name and renamed; ``comparison.json`` comes last and marks a
        complete folder."""
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        stale = out / "comparison.json"
        if stale.exists():  # rewriting: the folder is incomplete until the new one lands
            stale.unlink()
        for name, frame in (
            ("runs.csv", self.runs),
            ("differences.csv", self.differences),
            ("costs.csv", self.costs),
            ("cost_breakdown.csv", self.cost_breakdown),
            ("cost_effectiveness.csv", self.cost_effectiveness),
            ("per_dollar.csv", self.per_dollar),
            ("avoided_losses.csv", self.avoided_losses),
            ("early_vs_late.csv", self.early_vs_late),
        ):
            atomic_write(out / name, lambda p, f=frame: f.to_csv(p, index=False))
        for name, write in (extras or {}).items():
            atomic_write(out / name, write)
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
        atomic_write(out / "comparison.json", lambda p: p.write_text(text))
        return out

    def format_table(self) -> str:
        """Key results per arm as compact text (for the terminal)."""
        ref = self.reference
        head = ["arm", f"deaths vs {ref}", f"IPC3+ person-months vs {ref}", "cost USD", "USD/death averted", "BCR"]
        rows = []
        ce = self.cost_effectiveness.set_index(["arm", "metric"]) if len(self.cost_effectiveness) else None
        costs = self.costs.set_index("arm")
        for arm in self.arms:
            cost = _money(costs.loc[arm, "cost_usd_mean"]) if arm in costs.index else "-"
            if arm == ref:
                rows.append([arm, "(reference)", "(reference)", cost, "-", "-"])
                continue
            cells = [arm]
            for outcome in ("deaths_total", "ipc3plus_person_months"):
                try:
                    d = self.difference(arm, outcome)
                    cells.append(f"{_signed(d['mean_diff'])} [{_signed(d['ci_low'])}, {_signed(d['ci_high'])}]")
                except KeyError:
                    cells.append("-")
            cells.append(cost)
            for metric in ("cost_per_death_averted", "benefit_cost_ratio"):
                if ce is None or (arm, metric) not in ce.index:
                    cells.append("-")
                    continue
                r = ce.loc[(arm, metric)]
                if r["note"] in ("not averted", "no additional cost"):
                    cells.append("no cost" if r["note"] == "no additional cost" else "not averted")
                elif not np.isfinite(r["value"]):
                    cells.append("-")
                elif metric == "benefit_cost_ratio":
                    cells.append(f"{r['value']:.2f}")
                else:
                    cells.append(_money(r["value"]))
            rows.append(cells)
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
        def line(cells: list[str]) -> str:
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

        n = self.meta.get("replicates", "")
        out = [line(head), *(line(r) for r in rows)]
        out.append(f"  differences: mean over {n} paired replicates [95% CI]; negative = fewer than {ref}")
        scale = self.meta.get("real_households_per_simulated")
        if scale and scale != 1:
            out.append(f"  counts are of the simulated households; USD per death averted counts deaths in the real "
                       f"population ({_count(scale)} real households per simulated one)")
        return "\n".join(out)


def _with_zero_costs(runs: pd.DataFrame) -> pd.DataFrame:
    """Add ``cost_usd_total`` and ``cost_in_vain_usd`` = 0 for every run that lacks them
    (a run without a response spends nothing)."""
    keys = runs[["arm", "replicate", "seed"]].drop_duplicates()
    extra = []
    for name in ZERO_IF_MISSING:
        have = runs.loc[runs["outcome"] == name, ["arm", "replicate"]]
        missing = keys.merge(have, on=["arm", "replicate"], how="left", indicator=True)
        missing = missing[missing["_merge"] == "left_only"].drop(columns="_merge")
        if len(missing):
            extra.append(missing.assign(outcome=name, value=0.0))
    if not extra:
        return runs
    return pd.concat([runs, *extra], ignore_index=True)


def _merge_pairs(a: Sequence[tuple[str, str]], b: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for p in [*a, *b]:
        p = (str(p[0]), str(p[1]))
        if p not in out:
            out.append(p)
    return out
