"""Grids of (Network, T) points, any NDK function mapped over them, and the early-stopping map.

Example (two temperatures, the NNGP equilibrium of each, in this process):
    >>> import symndk
    >>> d = symndk.data.synthetic(P=4, r=0.6)
    >>> pts = grid(activation=["relu"], depth=[2], T=[0.01, 0.1])
    >>> eq = map_ndk(_nngp_test, pts, d.X_train, d.y_train, args=(d.X_test,))
    >>> direct = symndk.NDK(pts[1].network, d.X_train, d.y_train, T=0.1).equilibrium("nngp", d.X_test).test[0]
    >>> len(eq), bool(np.array_equal(eq[1], direct))
    (2, True)
    >>> rows = sweep(pts[:1], d, [0.0, 10.0, 1e3])
    >>> sorted(rows[0])[:4], rows[0]["t_opt"] in (0.0, 10.0, 1e3)
    (['T', 'activation', 'bias_sigma0_sq', 'bias_sigma_sq'], True)
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from symndk.errors import SymndkError
from symndk.model import NDK, OPTIONS, Network
from symndk.sweep.scheduler import parallel_map

#: most points one grid may have
MAX_POINTS = 100_000


@dataclass(frozen=True)
class Point:
    """One point of a sweep: a :class:`symndk.Network` and a temperature T."""

    network: Network
    T: float

    def label(self) -> str:
        n = self.network
        return f"{n.activation} L={n.depth} sigma0^2={n.sigma0_sq:g} sigma^2={n.sigma_sq:g} T={self.T:g}"

    def record(self) -> dict:
        return {**{o.field: getattr(self.network, o.field) for o in OPTIONS}, "T": self.T}


def grid(T=(0.01,), **fields) -> list[Point]:
    """The product of the given values: ``fields`` are :class:`symndk.Network` fields (each a list;
    fields not given keep the Network default), ``T`` the temperatures. Order: fields in the
    Network's order, T last (varying fastest)."""
    known = [o.field for o in OPTIONS]
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise SymndkError(f"unknown Network field {unknown[0]!r}; fields: {', '.join(known)}")
    names = [f for f in known if f in fields]
    lists = [list(np.atleast_1d(fields[f]).tolist()) if not isinstance(fields[f], str) else [fields[f]] for f in names]
    Ts = [T] if np.isscalar(T) else list(T)
    size = int(np.prod([len(v) for v in lists] + [len(Ts)], dtype=float))
    if not 1 <= size <= MAX_POINTS:
        raise SymndkError(f"a sweep grid needs 1..{MAX_POINTS} points, got {size}")
    from symndk import validation

    points = []
    for combo in itertools.product(*lists):
        net = Network(**dict(zip(names, combo)))
        points.extend(Point(net, validation.temperature(t)) for t in Ts)
    return points


def _apply(fn, point, X_train, y_train, args):
    return fn(NDK(point.network, X_train, y_train, T=point.T), *args)


def map_ndk(fn, points, X_train, y_train, args=(), scheduler=None, workers=None) -> list:
    """``[fn(NDK(p.network, X_train, y_train, T=p.T), *args) for p in points]`` on ``scheduler``
    (:func:`symndk.sweep.parallel_map`: ``None`` serial, ``"local"``, ``"tcp://host:port"``, a Client)."""
    return parallel_map(_apply, [(fn, p, X_train, y_train, tuple(args)) for p in points], scheduler, workers)


def _nngp_test(ndk, X_test):
    """The NNGP equilibrium on the test inputs (the doctest's example function)."""
    return ndk.equilibrium("nngp", X_test).test[0]


def early_stopping(ndk, X_test, y_test, times, rtol):
    """One point of the early-stopping map: the mean test error e(t) = mean_mu (y*_mu - f*_mu(t))^2
    along the trajectory, its minimum and where it falls, and e at both equilibria."""
    res = ndk.predict(times, X_test, rtol=rtol)
    y = np.asarray(y_test, float).reshape(len(y_test), -1)
    f = np.asarray(res.test, float).reshape(len(res.times), len(y_test), -1)
    err = ((f - y[None]) ** 2).mean(axis=(1, 2))
    ends = {k: float(((np.asarray(ndk.equilibrium(k, X_test).test[0], float).reshape(y.shape) - y) ** 2).mean())
            for k in ("ntk", "nngp")}
    i = int(np.argmin(err))
    return {"t_opt": float(res.times[i]), "gamma_t_opt": float(ndk.gamma * res.times[i]), "err_opt": float(err[i]),
            "err_final": float(err[-1]), "err_ntk": ends["ntk"], "err_nngp": ends["nngp"],
            "error_estimate": float(res.error_estimate), "curve": err}


def sweep(points, dataset, times, rtol=1e-6, scheduler=None, workers=None) -> list[dict]:
    """The early-stopping map over ``points`` on ``dataset`` (train and test sets, test targets):
    one dict per point with its fields, T, t_opt, gamma t_opt, err_opt, err_final, err_ntk, err_nngp,
    the solver's error estimate and ``curve`` (e(t) at ``times``)."""
    times = np.asarray(times, float)
    rows = map_ndk(early_stopping, points, dataset.X_train, dataset.y_train,
                   (dataset.X_test, dataset.y_test, times, rtol), scheduler, workers)
    return [{**p.record(), **r} for p, r in zip(points, rows)]
