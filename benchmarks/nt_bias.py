"""Static NNGP/NTK with biases against neural-tangents (issue 13, item 4), parameterisation mapped explicitly.

    python benchmarks/nt_bias.py          # needs the venv of ../shared/tools/install_neural_tangents.sh

neural-tangents ``stax.Dense(W_std=sigma, b_std=sigma_b)`` (NTK parameterisation) on every hidden layer and
the readout, ReLU or erf, depth L = 1..3, against ``symndk.static_kernels(..., sigma_sq, bias_sq)``:

* NNGP: NT = sigma^2 * symndk (symndk returns the output covariance over sigma^2).
* NTK: NT weights each parameter group's gradient by its prior variance, Theta_NT = sigma^2 Theta_W +
  sigma_b^2 Theta_b, while symndk's is the raw-parameter tangent kernel of the Langevin dynamics,
  Theta = Theta_W + Theta_b. So (sigma^2 Theta - Theta_NT) / (sigma^2 - sigma_b^2) must be the bias part
  Theta_b = B_L, B_0 = 1, B_l = 1 + sigma^2 Kdot_l B_{l-1} (Kdot_l from the generated F_phi'), and at
  sigma_b^2 = sigma^2 simply Theta_NT = sigma^2 Theta.

Prints the largest relative deviation of each check (measured 2026-12-05: <= 1e-15 throughout).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import nt_batch  # noqa: E402

WORKER = r"""
X, out = np.load(sys.argv[1]), {}
for key in sys.argv[3].split(','):
    act, L, w2, b2 = key.split('|')
    layers = []
    for _ in range(int(L)):
        layers += [stax.Dense(512, W_std=float(w2) ** 0.5, b_std=float(b2) ** 0.5), {'relu': stax.Relu, 'erf': stax.Erf}[act]()]
    k = stax.serial(*layers, stax.Dense(1, W_std=float(w2) ** 0.5, b_std=float(b2) ** 0.5))[2](X, None, get=('nngp', 'ntk'))
    out[key] = [np.asarray(k[0]).tolist(), np.asarray(k[1]).tolist()]
"""
CASES = [(a, L, w2, b2) for a in ("relu", "erf") for L in (1, 2, 3) for w2, b2 in ((1.5, 0.3), (2.0, 2.0), (0.8, 1.7))]


def bias_part(X, act, L, w2, b2):
    """B_L of the docstring from symndk's own layer kernels and generated F_phi'."""
    import symndk
    from symndk.kernels import loader

    duals = loader.load(act, "numpy")
    B = np.ones((X.shape[0], X.shape[0]))
    for layer in range(1, L + 1):
        q = w2 * X @ X.T / X.shape[1] + b2 if layer == 1 else w2 * np.asarray(
            symndk.static_kernels(X, None, act, layer - 1, w2, b2).nngp.train)
        n = np.diag(q)
        Kdot = np.asarray(duals.Fdot(n[:, None] + 0 * q, n[None, :] + 0 * q, q, np.maximum(np.outer(n, n) - q ** 2, 0)))
        B = 1 + w2 * Kdot * B
    return B


def main():
    import symndk

    X = np.random.default_rng(0).standard_normal((6, 4))
    X[3] = 0.5 * X[0]                                    # collinear pair: rho = 1 with different norms
    keys = [f"{a}|{L}|{w2}|{b2}" for a, L, w2, b2 in CASES]
    try:
        nt = nt_batch(WORKER, X, ",".join(keys))
    except RuntimeError as exc:
        sys.exit(str(exc))
    print(f"{'case':22s} {'NNGP: NT vs s2*symndk':>22s} {'NTK bias part vs B_L':>22s}")
    for (act, L, w2, b2), key in zip(CASES, keys):
        k = symndk.static_kernels(X, None, act, L, w2, b2)
        gp, tk = (np.array(v) for v in nt[key])
        sym_gp, sym_tk = np.asarray(k.nngp.train), np.asarray(k.ntk.train)
        d_gp = np.abs(gp - w2 * sym_gp).max() / np.abs(gp).max()
        if w2 == b2:
            d_tk, what = np.abs(tk - w2 * sym_tk).max() / np.abs(tk).max(), "(NT = s2 * symndk)"
        else:
            B = bias_part(X, act, L, w2, b2)
            d_tk, what = np.abs((w2 * sym_tk - tk) / (w2 - b2) - B).max() / np.abs(B).max(), ""
        print(f"{act} L={L} s2={w2} sb2={b2:<4} {d_gp:22.1e} {d_tk:22.1e} {what}")


if __name__ == "__main__":
    main()
