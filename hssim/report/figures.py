"""The run's key indicators over time, with drought months shaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..mpl_text import literal_text

__all__ = ["indicator_figure", "drought_months"]

PANELS = (
    ("ipc3plus_frac", "People in IPC phase 3+", "share", None),
    ("acute_malnutrition_frac", "Acute malnutrition, under-fives", "share", None),
    ("negative_coping_frac", "Crisis or emergency coping", "share", None),
    ("cdr_per_10k_day", "Crude death rate", "deaths / 10,000 / day", ((1.0, "Sphere emergency"), (2.0, "IPC famine"))),
    ("poverty_frac", "Below the poverty line", "share", None),
    ("food_price_usd_per_kg", "Cereal price (population-weighted)", "USD / kg", None),
)


def drought_months(results, min_share: float = 0.5) -> np.ndarray:
    """int[k] months (1-based) in which at least ``min_share`` of people live in drought districts."""
    s = results.indicator("in_drought")
    return s.index.to_numpy()[s.to_numpy() >= min_share]


@literal_text
def indicator_figure(results, path: str | Path, dpi: int = 110) -> None:
    """Write a PNG of the key indicators (district 'all', group 'all')."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    shaded = drought_months(results)
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.8), sharex=True)
    for ax, (name, title, unit, lines) in zip(axes.flat, PANELS):
        s = results.indicator(name)
        for m in shaded:
            ax.axvspan(m - 0.5, m + 0.5, color="#e8a33d", alpha=0.25, lw=0)
        ax.plot(s.index, s.to_numpy(), color="#1f4e79", lw=1.4)
        for y, label in lines or ():
            ax.axhline(y, color="#b22222", lw=0.8, ls="--")
            ax.text(s.index.min(), y, f" {label}", color="#b22222", fontsize=7, va="bottom")
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(unit, fontsize=8)
        ax.grid(alpha=0.3)
        if unit == "share":
            ax.set_ylim(0, max(0.05, float(np.nanmax(s.to_numpy())) * 1.15))
    for ax in axes[-1]:
        ax.set_xlabel("month")
    scen = results.config.get("scenario", {}).get("name", "")
    story = results.config.get("storyline", {}).get("name", "none")
    fig.suptitle(
        f"hssim: {scen}, storyline {story}, seed {results.config.get('seed')}  "
        f"(shaded: months with half the population or more in drought)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=dpi, format="png")
    plt.close(fig)
