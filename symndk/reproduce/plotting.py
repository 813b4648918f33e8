"""One matplotlib style for every reproduction figure (no pyplot: no global backend state).

Figures are plain :class:`matplotlib.figure.Figure` objects drawn with the Agg canvas, so
reproductions run headless and in worker processes. :func:`style` is the rc context every
reproduction is drawn under; :func:`save` writes PNG and PDF side by side.

Example:
    >>> import tempfile, pathlib
    >>> with style():
    ...     fig, axes = panels(1, 2)
    ...     _ = axes[0, 0].plot([1, 10], [0, 1], label="curve")
    ...     log_time(axes[0, 0], gamma=0.1)
    ...     paths = save(fig, pathlib.Path(tempfile.mkdtemp()) / "demo")
    >>> sorted(p.suffix for p in paths)
    ['.pdf', '.png']
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

#: rc parameters shared by every figure (readable at README-gallery size).
STYLE = {
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.titlepad": 11.0,  # room for the 1/gamma label above the plotting area
    "axes.labelsize": 9,
    "legend.fontsize": 7.5,
    "legend.framealpha": 0.85,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "lines.linewidth": 1.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 110,
    "pdf.fonttype": 42,
}

#: colours of the two equilibria, used identically in every figure.
NTK_STYLE = {"ls": "--", "lw": 1.1}
NNGP_STYLE = {"ls": ":", "lw": 1.5}


@contextlib.contextmanager
def style():
    """Context manager applying :data:`STYLE` (matplotlib imported lazily)."""
    import matplotlib

    with matplotlib.rc_context(STYLE):
        yield


def panels(nrows, ncols, width=3.3, height=2.6, **subplot_kw):
    """A figure with a 2-D array of axes (always 2-D), constrained layout, ``width x height`` per panel."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def colours(n, cmap="viridis"):
    """``n`` distinguishable colours from a sequential colormap (ends trimmed for contrast).

    Example:
        >>> [len(c) for c in colours(3)]  # RGBA tuples
        [4, 4, 4]
    """
    import matplotlib

    cm = matplotlib.colormaps[cmap]
    return [cm(x) for x in np.linspace(0.05, 0.85, n)] if n > 1 else [cm(0.3)]


def log_time(ax, gamma=None, label="time $t$"):
    """Log-scaled time axis; with ``gamma`` a faint vertical line marks the diffusive scale 1/gamma."""
    ax.set_xscale("log")
    ax.set_xlabel(label)
    if gamma:
        ax.axvline(1.0 / gamma, color="0.5", lw=0.8, ls="-.", alpha=0.6, zorder=0)
        # the label sits just above the plotting area, so it never covers a curve or a tick label
        ax.annotate(r"$1/\gamma$", (1.0 / gamma, 1.0), xycoords=("data", "axes fraction"), xytext=(0, 1),
                    textcoords="offset points", ha="center", va="bottom", fontsize=7, color="0.35",
                    annotation_clip=False)


def equilibrium_lines(ax, ntk=None, nngp=None, color="k", label=True):
    """Horizontal reference lines: NTK equilibrium dashed, NNGP equilibrium dotted."""
    if ntk is not None:
        ax.axhline(ntk, color=color, label="NTK equilibrium" if label else None, **NTK_STYLE)
    if nngp is not None:
        ax.axhline(nngp, color=color, label="NNGP equilibrium" if label else None, **NNGP_STYLE)


def save(fig, stem):
    """Write ``stem.png`` and ``stem.pdf``; returns the two paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    from symndk.files import atomic_write

    for p in paths:
        atomic_write(p, None, writer=lambda fh, fmt=p.suffix[1:]: fig.savefig(fh, format=fmt))
    return paths
