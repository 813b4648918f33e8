"""Gradient-flow ensemble covariance against neural-tangents (issue 13, item 4: T -> 0 covariance).

    python benchmarks/nt_covariance.py [--volterra]   # needs the venv of ../shared/tools/install_neural_tangents.sh

neural-tangents ``predict.gradient_descent_mse_ensemble(kernel_fn, X, y, learning_rate=1)`` with
``compute_cov=True`` gives the mean and covariance of the NTK-trained ensemble of Lee et al. 2019
(f0 ~ N(0, NNGP), MSE loss, infinite width) on the test points and (``x_test=None``) on the training
points. Against symndk's T = 0 closed form (``NDK.ntk_dynamics(cov="full")``) and, with ``--volterra``
(about 1 CPU minute), for erf the Volterra covariance solver at small temperatures
(``NDK.predict(cov="full")``, T = 1e-6 and 1e-4, whose distance to gradient flow is O(T):
tests/test_covariance.py). Foil: the same comparison with NT's time taken as t / (eta sigma0^2),
i.e. without the |y| of NT's mean loss, must miss.

The parameterisation map (as benchmarks/nt_bias.py): ``stax.Dense(W_std = sigma0, b_std = sigma_b0)``
on every layer and the readout. Only the initial variances enter gradient flow. NT's NNGP is the
output covariance, i.e. symndk's ``prior_covariance`` G; NT's NTK weights each parameter group by its
variance, Theta_NT = sigma0^2 Theta_W + sigma_b0^2 Theta_b, so with sigma_b0^2 in {0, sigma0^2}
Theta_NT = sigma0^2 Theta (symndk's raw-parameter tangent kernel).

The time unit: NT's loss is the mean 1/(2 |y|) sum (f - y)^2 over all |y| = P K entries of y_train,
and it evolves f by exp(-Theta_NT eta t_NT / |y|) (``_make_expm1_fn(y_train.size)``), symndk by
exp(-Theta t) (loss 1/2 sum, unit rate). Hence

    t_NT = t * |y| / (eta sigma0^2)        (eta: NT's learning_rate)

which the mean checks as well. Prints the largest deviations relative to the largest |entry|.

The last test input, 0.7 x_2, is exactly collinear with a training input (rho = 1, different norms). There
neural-tangents' ReLU kernels, an arccos of a clipped ratio, are O(sqrt(eps)) off (the angle of a ratio
rounded to 1 +- eps is ~2e-8 instead of 0), while symndk's equal the rho = 1 closed form to 4e-17
(tests/test_collinear_inputs.py, against mpmath). That row is reported apart, in ``collinear``: measured
(2026-12-06) 4e-9 / 9e-9 for ReLU L = 1 / 2 without biases (NT's error), <= 3e-15 elsewhere. Until symndk's
two-time kernels took D_0 from the input difference (7ed0215) they carried a similar rounding and agreed
with NT there to 8e-11. The other columns: closed form <= 4e-15, foil >= 0.09; Volterra at T = 1e-6
3e-6..2e-5, at T = 1e-4 100x more: linear in T.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import nt_batch  # noqa: E402

WORKER = r"""
from neural_tangents import predict
Z = np.load(sys.argv[1])                      # [X; Xt] with y (then zeros) as the last column
n_train, eta, keys = sys.argv[3].split('#')
X, Xt, y = Z[:int(n_train), :-1], Z[int(n_train):, :-1], Z[:int(n_train), -1:]
out = {}
for key in keys.split(','):
    act, L, w2, b2, times = key.split('|')
    b = float(b2) ** 0.5 if float(b2) > 0 else None
    layers = []
    for _ in range(int(L)):
        layers += [stax.Dense(512, W_std=float(w2) ** 0.5, b_std=b), {'relu': stax.Relu, 'erf': stax.Erf}[act]()]
    kfn = stax.serial(*layers, stax.Dense(1, W_std=float(w2) ** 0.5, b_std=b))[2]
    fn = predict.gradient_descent_mse_ensemble(kfn, X, y, learning_rate=float(eta))
    t = np.array([float(v) for v in times.split(';')])
    te, tr = fn(t, Xt, 'ntk', compute_cov=True), fn(t, None, 'ntk', compute_cov=True)
    out[key] = {k: np.asarray(v).tolist() for k, v in (('test', te.mean), ('test_cov', te.covariance),
                                                       ('train', tr.mean), ('train_cov', tr.covariance))}
"""
#: (activation, depth, sigma0^2, sigma_b0^2); sigma_b0^2 = 0 (no bias) or sigma0^2 (Theta_NT = sigma0^2 Theta)
CASES = [(a, L, w2, b2) for a in ("relu", "erf") for L in (1, 2) for w2, b2 in ((0.6, 0.0), (1.5, 1.5))]
TIMES = np.array([0.0, 0.3, 2.0, 40.0])     # symndk time
ETA = 0.5                                    # NT's learning rate (any; the map carries it)
SMALL_T = (1e-6, 1e-4)                       # the Volterra solver at T > 0, erf cases


def nt_time(t, n_targets, sigma0_sq, eta=ETA):
    """NT's time for symndk's time ``t`` (module docstring): t |y| / (eta sigma0^2).

    Example:
        >>> float(nt_time(2.0, 4, 0.5, eta=0.5))
        32.0
    """
    return np.asarray(t, float) * n_targets / (eta * sigma0_sq)


def _task():
    import symndk

    ds = symndk.data.synthetic(4, 0.6)
    Xt = np.vstack([ds.X_test, 0.5 * (ds.X_train[0] + ds.X_test[0]), 0.7 * ds.X_train[2]])
    return ds.X_train, ds.y_train, Xt


def _dev(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b)))


def main(volterra=False):
    import symndk

    X, y, Xt = _task()
    keys = [f"{a}|{L}|{w2}|{b2}|" + ";".join(repr(float(v)) for v in nt_time(TIMES, y.size, w2)) for a, L, w2, b2 in CASES]
    Z = np.hstack([np.vstack([X, Xt]), np.concatenate([y, np.zeros(len(Xt))])[:, None]])
    try:
        nt = nt_batch(WORKER, Z, f"{len(X)}#{ETA!r}#" + ",".join(keys))
    except RuntimeError as exc:
        sys.exit(str(exc))
    print(f"{'case':24s} {'mean':>9s} {'test cov':>9s} {'train cov':>9s} {'foil':>9s} {'collinear':>9s} " +
          " ".join(f"{'volterra T=' + format(T, 'g'):>16s}" for T in SMALL_T))
    for (act, L, w2, b2), key in zip(CASES, keys):
        net = symndk.Network(act, L, w2, w2, b2, b2)
        flow = symndk.NDK(net, X, y, T=0.0).ntk_dynamics(TIMES, Xt, cov="full")
        got = nt[key]
        nt_test, nt_cov = np.array(got["test"])[..., 0], np.array(got["test_cov"])
        # the last test row is 0.7 x_2, exactly collinear with a training input: reported apart (see the docstring)
        d_mean = max(_dev(flow.test[:, :-1], nt_test[:, :-1]), _dev(flow.train, np.array(got["train"])[..., 0]))
        d_te = _dev(flow.test_cov[:, :-1, :-1], nt_cov[:, :-1, :-1])
        d_col = max(_dev(flow.test[:, -1], nt_test[:, -1]), _dev(flow.test_cov[:, -1], nt_cov[:, -1]))
        d_tr = _dev(flow.train_var, np.diagonal(np.array(got["train_cov"]), axis1=1, axis2=2))
        wrong = symndk.NDK(net, X, y, T=0.0).ntk_dynamics(TIMES / y.size, Xt, cov="full")
        d_foil = _dev(wrong.test_cov, got["test_cov"])
        small = []
        if volterra and act == "erf":
            for T in SMALL_T:
                r = symndk.NDK(net, X, y, T=T).predict(TIMES[1:], Xt, rtol=1e-10, cov="full")
                small.append(_dev(r.test_cov, np.array(got["test_cov"])[1:]))
        print(f"{act} L={L} s2={w2} sb2={b2:<5} {d_mean:9.1e} {d_te:9.1e} {d_tr:9.1e} {d_foil:9.1e} {d_col:9.1e} "
              + " ".join(f"{v:16.1e}" for v in small))


if __name__ == "__main__":
    main("--volterra" in sys.argv[1:])
