"""Static NNGP/NTK with per-layer variances against neural-tangents (issue 13, item 1), parameterisation mapped.

    python benchmarks/nt_layers.py        # needs the neural-tangents venv (or $SYMNDK_NT_PYTHON)

neural-tangents ``stax.serial(Dense(W_std=sigma_1, b_std=sigma_b1), phi, .., Dense(1, W_std=sigma_{L+1},
b_std=sigma_b,L+1))`` (NTK parameterisation, one W_std per layer) against symndk with the lists
``sigma_sq = [sigma_1^2, .., sigma_{L+1}^2]``, ``bias_sq = [..]`` (docs/theory.md §B):

* NNGP: NT = sigma_{L+1}^2 * symndk (symndk returns the output covariance over the readout variance).
* NTK: NT weights each parameter group's gradient by that group's variance; symndk's is the raw-parameter
  tangent kernel, whose recursion carries one propagator per group (1 at t = s). NT's is therefore the
  same runtime recursion with every group's propagator replaced by its variance (weights sigma_l^2,
  biases sigma_bl^2): checked through ``symndk.runtime.recursion.layers`` with those lists.

Prints the largest relative deviation of each check, and of a foil: symndk at the average weight variance
(one number for every layer), which must miss NT's NNGP.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import nt_batch  # noqa: E402

WORKER = r"""
X, out = np.load(sys.argv[1]), {}
for key in sys.argv[3].split(';'):
    act, w, b = key.split('|')
    w, b = [float(v) for v in w.split(',')], [float(v) for v in b.split(',')]
    layers = []
    for wl, bl in zip(w[:-1], b[:-1]):
        layers += [stax.Dense(512, W_std=wl ** 0.5, b_std=bl ** 0.5 if bl else None), {'relu': stax.Relu, 'erf': stax.Erf}[act]()]
    k = stax.serial(*layers, stax.Dense(1, W_std=w[-1] ** 0.5, b_std=b[-1] ** 0.5 if b[-1] else None))[2](X, None, get=('nngp', 'ntk'))
    out[key] = [np.asarray(k[0]).tolist(), np.asarray(k[1]).tolist()]
"""
#: (activation, weight variances, bias variances): L = 1..3, rates spread over 6x, biases on some layers only
CASES = [(a, w, b) for a in ("relu", "erf") for w, b in (
    ((2.0, 0.5), (0.0, 0.0)),
    ((1.0, 2.0, 0.5), (0.0, 0.0, 0.0)),
    ((1.0, 2.0, 0.5), (0.3, 0.0, 0.7)),
    ((0.6, 1.7, 1.1, 3.0), (0.2, 0.4, 0.0, 1.5)),
)]


def nt_map(X, act, w, b):
    """NT's NTK from the runtime recursion with each group's propagator set to its variance (see the docstring)."""
    from symndk.kernels import loader
    from symndk.runtime.recursion import Bias, layer_kernels

    duals = loader.load(act, "numpy")
    k0 = X @ X.T / X.shape[1]
    n = np.diag(k0)
    groups = [Bias(bl, bl, bl, wl, bl) if bl else Bias(None, None, None, wl, None) for wl, bl in zip(w, b)]
    return layer_kernels(n[:, None] + 0 * k0, n[None, :] + 0 * k0, k0, list(w), list(w), list(w), len(w) - 1, duals,
                         bias=groups)[3]


def run(X):
    """{case: (NNGP deviation, NTK deviation, foil NNGP deviation)} for :data:`CASES` on inputs X."""
    import symndk

    keys = [f"{a}|{','.join(map(str, w))}|{','.join(map(str, b))}" for a, w, b in CASES]
    try:
        nt = nt_batch(WORKER, X, ";".join(keys))
    except RuntimeError as exc:
        sys.exit(str(exc))
    out = {}
    for (act, w, b), key in zip(CASES, keys):
        k = symndk.static_kernels(X, None, act, len(w) - 1, list(w), list(b))
        gp, tk = (np.array(v) for v in nt[key])
        d_gp = np.abs(gp - w[-1] * np.asarray(k.nngp.train)).max() / np.abs(gp).max()
        d_tk = np.abs(tk - nt_map(X, act, w, b)).max() / np.abs(tk).max()
        avg = float(np.mean(w))
        foil = avg * np.asarray(symndk.static_kernels(X, None, act, len(w) - 1, avg, list(b)).nngp.train)
        out[key] = (d_gp, d_tk, np.abs(gp - foil).max() / np.abs(gp).max())
    return out


def main():
    X = np.random.default_rng(0).standard_normal((6, 4))
    X[3] = 0.5 * X[0]                                    # collinear pair: rho = 1 with different norms
    print(f"{'case':40s} {'NNGP: NT vs s_L+1^2 symndk':>27s} {'NTK: NT vs mapped recursion':>28s} {'foil':>8s}")
    for key, (d_gp, d_tk, d_foil) in run(X).items():
        print(f"{key:40s} {d_gp:27.1e} {d_tk:28.1e} {d_foil:8.1e}")


if __name__ == "__main__":
    main()
