r"""Plots for the demo (matplotlib, imported only when a plot is asked for).

:func:`plot_variance` draws the variance of gradient estimators of
:math:`\partial_\mu \mathbb{E}[(z - c)^2]`, :math:`z \sim N(\mu, \sigma^2)`,
against :math:`\mu - c`: the score-function estimator with no baseline, the
leave-one-out baseline and the optimal baseline, and the pathwise estimator.
Points are measured (by :func:`scorefast.demo.variance_table`), lines are the
closed forms stated there. The score-function variance grows as
:math:`(\mu - c)^4` without a baseline and as :math:`(\mu - c)^2` with one;
the pathwise variance, :math:`4\sigma^2/S`, does not depend on :math:`\mu - c`.
"""
from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

__all__ = ["plot_variance", "write_variance_plot"]


def _pyplot_free_figure() -> Any:
    """A matplotlib Figure drawn by the Agg canvas (no GUI, no global state)."""
    try:
        # matplotlib is optional (scorefast[plot]): mypy may not find it
        from matplotlib.backends.backend_agg import (  # type: ignore[import-not-found, unused-ignore]
            FigureCanvasAgg)
        from matplotlib.figure import Figure  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise ImportError("the plot needs matplotlib: pip install matplotlib") from None
    fig = Figure(figsize=(7.5, 4.8), dpi=120)
    FigureCanvasAgg(fig)
    return fig


def plot_variance(path: str | os.PathLike[str], *, c: float = 0.0, sigma: float = 1.0,
                  samples: int = 8, repeats: int = 20000, d_max: float = 3.0,
                  points: int = 25, seed: int = 0) -> dict[str, Any]:
    r"""Write a PNG of estimator variance against :math:`\mu - c` for the quadratic cost.

    Parameters
    ----------
    path : str or path-like
        Where to write the PNG.
    c, sigma : float
        The cost's centre and the sampling distribution's standard deviation.
    samples : int
        Samples per estimate (:math:`S`).
    repeats : int
        Independent estimates per point, over which the variance is measured.
    d_max : float
        :math:`\mu - c` runs over ``[-d_max, d_max]``.
    points : int
        Values of :math:`\mu - c`.
    seed : int

    Returns
    -------
    dict
        ``d`` (the values of :math:`\mu - c`), and for each estimator its
        measured ``variance`` and ``closed_form`` arrays, keyed by name.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    """
    fig = _pyplot_free_figure()                     # fails first if matplotlib is missing
    from scorefast.demo import variance_table

    d = np.linspace(-d_max, d_max, points)
    series: dict[str, dict[str, list[float]]] = {}
    for j, dj in enumerate(d):
        for row in variance_table(mu=c + dj, c=c, sigma=sigma, samples=samples,
                                  repeats=repeats, seed=seed + j, verbose=False):
            s = series.setdefault(row["estimator"], {"variance": [], "closed_form": []})
            s["variance"].append(row["variance"])
            s["closed_form"].append(row["closed_form"])

    ax = fig.add_subplot(1, 1, 1)
    colors = ["tab:red", "tab:orange", "tab:green", "tab:blue"]
    for color, (name, s) in zip(colors, series.items()):
        ax.plot(d, s["closed_form"], color=color, lw=1.5,
                ls="--" if "optimal" in name else "-")
        ax.plot(d, s["variance"], "o", color=color, ms=4, label=name)
    ax.set_yscale("log")
    ax.set_xlabel(r"$\mu - c$")
    ax.set_ylabel(f"variance of the estimate ({samples} samples)")
    ax.set_title(r"Estimators of $\partial_\mu\, \mathrm{E}[(z - c)^2]$, "
                 rf"$z \sim N(\mu, {sigma:g}^2)$" + "\npoints: measured; lines: closed "
                 "forms (dashed: the ideal optimal baseline)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center")
    fig.tight_layout()
    fig.savefig(os.fspath(path))
    return {"d": d, **{name: {k: np.array(v) for k, v in s.items()}
                       for name, s in series.items()}}


def write_variance_plot(path: str | os.PathLike[str], seed: int = 0,
                        verbose: bool = True) -> int:
    """:func:`plot_variance` for the command line, with an exit status.

    Parameters
    ----------
    path : str or path-like
        Where to write the PNG.
    seed : int
        Seed of the variance measurements.
    verbose : bool
        Print where the PNG went.

    Returns
    -------
    int
        0 when the PNG was written; 2 when matplotlib is missing (the reason
        is printed to stderr).
    """
    try:
        plot_variance(path, seed=seed)
    except ImportError as exc:
        print(f"scorefast demo --plot: {exc}", file=sys.stderr)
        return 2
    if verbose:
        print(f"\nwrote the variance plot to {os.fspath(path)}")
    return 0
