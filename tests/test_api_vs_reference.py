"""The fast float64 solver against the independent high-precision (MPFR) reference (symndk.reference).

The reference (REFERENCE engineer's Radau IIA collocation in mpmath, certified by two orders)
solves the scalar reduction of docs/theory.md §10; the fast solver solves the full P-vector
equations on the same task. They must agree to the requested tolerance.
"""
import numpy as np
import pytest

import symndk
from symndk import data

TIMES = [1.0, 10.0, 100.0, 1000.0, 3000.0]


@pytest.mark.slow
@pytest.mark.parametrize("act, depth", [("relu", 2), ("erf", 1), ("relu", 3)])
def test_fast_solver_matches_reference(act, depth):
    kw = dict(activation=act, depth=depth, sigma0_sq=0.5, sigma_sq=1.0, T=0.01)
    ref = symndk.reference(r=0.5, times=TIMES, dps=16, **kw)
    assert min(ref.digits) >= 10
    ds = data.synthetic(2, 0.5)
    res = symndk.predict(ds.X_train, ds.y_train, ds.X_test, times=TIMES, rtol=1e-10, **kw)
    g, f = ref.train[:, 0], ref.test[:, 0]
    err = max(np.abs(res.train - np.outer(g, ds.y_train)).max(), np.abs(res.test[:, 0] - f).max())
    assert err <= 1e-10, err
    assert err <= res.error_estimate + 1e-12


def _table_configs():
    import csv
    from importlib import resources

    path = resources.files("symndk") / "reference_tables" / "synthetic.csv"
    if not path.is_file():
        return []
    groups = {}
    with path.open() as fh:
        for row in csv.DictReader(fh):
            key = tuple(row[k] for k in ("activation", "depth", "sigma0_sq", "sigma_sq", "T", "r"))
            groups.setdefault(key, []).append(row)
    return sorted(groups.items())


@pytest.mark.parametrize("key, rows", _table_configs(), ids=lambda v: "-".join(v) if isinstance(v, tuple) else "")
def test_fast_solver_matches_published_reference_table(key, rows):
    act, depth, s0, s2, T, r = key
    times = [float(row["t"]) for row in rows]
    ds = data.synthetic(2, float(r))
    res = symndk.predict(ds.X_train, ds.y_train, ds.X_test, activation=act, depth=int(depth), sigma0_sq=float(s0),
                         sigma_sq=float(s2), T=float(T), times=times, rtol=1e-10)
    g = np.array([float(row["g"]) for row in rows])
    f = np.array([float(row["f_test"]) for row in rows])
    digits = np.array([int(row["certified_digits"]) for row in rows])
    tol = 1e-10 + 10.0 ** (1 - digits)                  # the table is only as good as its certificate
    err = np.maximum(np.abs(res.train - np.outer(g, ds.y_train)).max(axis=1), np.abs(res.test[:, 0] - f))
    assert np.all(err <= tol), (err, tol)
