"""Static NNGP/NTK: against finite-width Monte Carlo of grad f . grad f, mpmath near rho = 1, a textbook baseline."""
import mpmath
import numpy as np
import pytest

from symndk.errors import SymndkError
from symndk.kernels.loader import load
from symndk.kernels.static import nngp_kernel, ntk_kernel

ACT = {"relu": lambda h: np.maximum(h, 0.0), "erf": None}


def _finite_width_ntk(X, activation, depth, sigma_sq, width, rng):
    """One random network: f, and Theta = sum over all parameters of df(x)/dp df(x')/dp (by backprop)."""
    duals = load(activation)
    phi, dphi = duals.phi, duals.dphi
    xs, hs = [X.T], []
    n_in = X.shape[1]
    Ws = []
    for _ in range(depth):
        W = rng.standard_normal((width, n_in)) * np.sqrt(sigma_sq)
        Ws.append(W)
        hs.append(W @ xs[-1] / np.sqrt(n_in))
        xs.append(phi(hs[-1]))
        n_in = width
    a = rng.standard_normal(width) * np.sqrt(sigma_sq)
    theta = xs[-1].T @ xs[-1] / width  # readout
    delta = a[:, None] * dphi(hs[-1]) / np.sqrt(width)  # df/dh_L
    for layer in range(depth - 1, -1, -1):
        fan_in = xs[layer].shape[0]
        theta += (delta.T @ delta) * (xs[layer].T @ xs[layer]) / fan_in
        if layer:
            delta = (Ws[layer].T @ delta) / np.sqrt(fan_in) * dphi(hs[layer - 1])
    return theta, xs[-1].T @ xs[-1] / width


@pytest.mark.parametrize("activation, depth", [("relu", 2), ("erf", 2), ("relu", 3)])
def test_ntk_and_nngp_match_finite_width_monte_carlo(activation, depth):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((3, 10))
    X[2] = X[0] + 0.1 * rng.standard_normal(10)
    sigma_sq = 1.3
    samples = [_finite_width_ntk(X, activation, depth, sigma_sq, 1000, rng) for _ in range(30)]
    for which, kernel in ((0, ntk_kernel), (1, nngp_kernel)):
        vals = np.array([s[which] for s in samples])
        mean, se = vals.mean(0), vals.std(0) / np.sqrt(len(vals))
        theory = kernel(X, activation=activation, depth=depth, sigma_sq=sigma_sq).train
        z = np.abs(mean - theory) / (se + 1e-3 * np.abs(theory))  # + O(1/width) finite-width bias
        assert z.max() < 5, (kernel.__name__, z)


def _mp_reference(X, activation, depth, sigma_sq, dps=40):
    """Plain recursion at 40 digits with the mpmath twin (no D carried), from the float64 inputs."""
    mp = load(activation, "mpmath")
    with mpmath.workdps(dps):
        rows = [[mpmath.mpf(float(v)) for v in x] for x in X]
        n = len(rows)
        K = [[mpmath.fdot(rows[i], rows[j]) / X.shape[1] for j in range(n)] for i in range(n)]
        T = [r[:] for r in K]
        for _ in range(depth):
            F = [[mp.F(sigma_sq * K[i][i], sigma_sq * K[j][j], sigma_sq * K[i][j]) for j in range(n)] for i in range(n)]
            T = [[F[i][j] + sigma_sq * mp.Fdot(sigma_sq * K[i][i], sigma_sq * K[j][j], sigma_sq * K[i][j]) * T[i][j]
                  for j in range(n)] for i in range(n)]
            K = F
        return K, T


def _pair(delta, n0=64, seed=3):
    rng = np.random.default_rng(seed)
    x, e = rng.standard_normal((2, n0))
    e -= (e @ x) / (x @ x) * x
    e *= np.linalg.norm(x) / np.linalg.norm(e)
    a = np.arccos(1 - delta)
    return np.stack([x, np.cos(a) * x + np.sin(a) * e])


@pytest.mark.parametrize("activation", ["relu", "erf", "abs", "leaky_relu"])
@pytest.mark.parametrize("delta", [1e-8, 1e-12, 1e-3])
def test_near_collinear_inputs_keep_full_precision(activation, delta):
    X = _pair(delta)
    K_ref, T_ref = _mp_reference(X, activation, 3, 1.0)
    for mat, ref in ((nngp_kernel(X, activation=activation, depth=3).train, K_ref),
                     (ntk_kernel(X, activation=activation, depth=3).train, T_ref)):
        err = max(float(abs((mat[i, j] - ref[i][j]) / ref[i][j])) for i in range(2) for j in range(2))
        assert err <= (1e-14 if delta <= 1e-8 else 3e-14), err  # depth 3: a few ulps per layer


def test_naive_arccos_form_loses_digits_where_symndk_does_not():
    """The reason D is carried: the textbook ReLU NTK at rho = 1 - 1e-12 loses about 5 digits."""
    X = _pair(1e-12)
    _, T_ref = _mp_reference(X, "relu", 2, 1.0)
    K = X @ X.T / X.shape[1]
    theta = K
    for _ in range(2):
        d = np.sqrt(np.diag(K))
        th = np.arccos(np.clip(K / np.outer(d, d), -1, 1))
        Knew = np.outer(d, d) * (np.sin(th) + (np.pi - th) * np.cos(th)) / (2 * np.pi)
        theta = Knew + (np.pi - th) / (2 * np.pi) * theta
        K = Knew
    naive = float(abs((theta[0, 1] - T_ref[0][1]) / T_ref[0][1]))
    ours = float(abs((ntk_kernel(X, activation="relu", depth=2).train[0, 1] - T_ref[0][1]) / T_ref[0][1]))
    assert ours < 1e-14 < 1e-11 < naive


def test_test_train_block_matches_the_joint_matrix():
    rng = np.random.default_rng(0)
    X1, X2 = rng.standard_normal((7, 5)), rng.standard_normal((4, 5))
    joint = ntk_kernel(np.vstack([X1, X2]), activation="erf", depth=2, sigma_sq=0.8).train
    pair = ntk_kernel(X1, X2, activation="erf", depth=2, sigma_sq=0.8)
    np.testing.assert_allclose(pair.train, joint[:7, :7], rtol=1e-13)
    np.testing.assert_allclose(pair.test, joint[7:, :7], rtol=1e-13)
    assert np.array_equal(pair.train, pair.train.T)


@pytest.mark.parametrize("kwargs, message", [
    ({"X1": np.ones(3)}, "2-D array"),
    ({"X1": np.ones((2, 3)), "X2": np.ones((2, 4))}, "X2 must have 3 columns"),
    ({"X1": np.ones((2, 3)), "depth": 0}, "depth"),
    ({"X1": np.ones((2, 3)), "sigma_sq": -1.0}, "sigma_sq"),
    ({"X1": np.ones((2, 3)), "activation": "nope"}, "no generated kernels"),
])
def test_bad_input_is_one_clear_error(kwargs, message):
    with pytest.raises(SymndkError, match=message):
        nngp_kernel(**kwargs)


def test_the_callers_floating_point_error_state_reaches_the_kernel_threads():
    """np.errstate is per thread: the static path's worker threads run under the caller's state, so a
    caller that silences an expected 1/0 (as the kernel checks do for distributional phi') sees no
    RuntimeWarning leak from the pool, and one that does not silence it still gets it."""
    import warnings

    from symndk.kernels import loader
    from symndk.kernels.static import nngp_kernel

    class Noisy:
        """relu's dual kernels, plus a discarded 1/0 in every block."""

        def __init__(self):
            self._duals = loader.load("relu", "numpy")

        def __getattr__(self, name):
            return getattr(self._duals, name)

        def layer(self, *args):
            np.ones(1) / np.zeros(1)
            return self._duals.layer(*args)

    X = np.random.default_rng(0).standard_normal((300, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(divide="ignore"):
            K = nngp_kernel(X, activation=Noisy(), depth=2).train
    assert np.array_equal(K, nngp_kernel(X, activation="relu", depth=2).train)
    with warnings.catch_warnings(record=True) as caught, np.errstate(divide="warn"):
        warnings.simplefilter("always")
        nngp_kernel(X, activation=Noisy(), depth=2)
    assert any(issubclass(w.category, RuntimeWarning) for w in caught)
