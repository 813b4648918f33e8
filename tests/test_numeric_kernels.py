"""Issue 12: the two bugs found by the neural-tangents comparison, and the numeric dual kernels.

Expected values come from independent routes: textbook closed forms evaluated with mpmath at
30 digits (E[e^u e^v] = e^{c + q1/2 + q2/2}; E[(sin+cos)(u) (sin+cos)(v)] = e^{c - (q1+q2)/2}),
the NTK recursion written out here in mpmath, and 2-D mpmath quadrature.
"""
import math

import mpmath
import numpy as np
import pytest


def _ntk_mp(X, depth, sigma_sq, F, Fdot, V):
    """NTK Theta_L by the recursion of docs/theory.md §3, written independently in mpmath."""
    n0 = X.shape[1]
    rows = [[mpmath.mpf(float(v)) for v in r] for r in X]
    P = len(rows)
    K = [[sum(a * b for a, b in zip(rows[i], rows[j])) / n0 for j in range(P)] for i in range(P)]
    Th = [row[:] for row in K]
    s = mpmath.mpf(sigma_sq)
    for _ in range(depth):
        newK = [[F(s * K[i][i], s * K[j][j], s * K[i][j]) if i != j else V(s * K[i][i]) for j in range(P)]
                for i in range(P)]
        Kd = [[Fdot(s * K[i][i], s * K[j][j], s * K[i][j]) for j in range(P)] for i in range(P)]
        Th = [[newK[i][j] + s * Kd[i][j] * Th[i][j] for j in range(P)] for i in range(P)]
        K = newK
    return np.array([[float(v) for v in r] for r in Th])


CASES = {
    # name: (expression, F, Fdot, V) -- closed forms of E[phi(u) phi(v)], E[phi'(u) phi'(v)], E[phi(u)^2]
    "alias_exp": ("exp(x)", lambda a, b, c: mpmath.exp(c + a / 2 + b / 2),
                  lambda a, b, c: mpmath.exp(c + a / 2 + b / 2), lambda q: mpmath.exp(2 * q)),
    "alias_2exp": ("2*exp(x)", lambda a, b, c: 4 * mpmath.exp(c + a / 2 + b / 2),
                   lambda a, b, c: 4 * mpmath.exp(c + a / 2 + b / 2), lambda q: 4 * mpmath.exp(2 * q)),
    "alias_sincos": ("sin(x) + cos(x)", lambda a, b, c: mpmath.exp(c - (a + b) / 2),
                     lambda a, b, c: mpmath.exp(c - (a + b) / 2), lambda q: mpmath.mpf(1)),
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    import os

    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.mark.slow
def test_closed_forms_of_the_alias_cases_against_2d_quadrature():
    """The closed forms used below, checked once against mpmath 2-D quadrature (15 digits)."""
    q1, q2, c = mpmath.mpf("0.3"), mpmath.mpf("0.5"), mpmath.mpf("0.2")
    L = mpmath.cholesky(mpmath.matrix([[q1, c], [c, q2]]))
    for expr, F, _, _ in CASES.values():
        phi = (lambda x: mpmath.exp(x)) if expr == "exp(x)" else (
            (lambda x: 2 * mpmath.exp(x)) if expr == "2*exp(x)" else (lambda x: mpmath.sin(x) + mpmath.cos(x)))
        with mpmath.workdps(15):
            val = mpmath.quad(lambda z1, z2: mpmath.npdf(z1) * mpmath.npdf(z2)
                              * phi(L[0, 0] * z1) * phi(L[1, 0] * z1 + L[1, 1] * z2), [-9, 0, 9], [-9, 0, 9])
        assert abs(val - F(q1, q2, c)) < 1e-12 * abs(F(q1, q2, c))


@pytest.mark.parametrize("name", [n if n == "alias_exp" else pytest.param(n, marks=pytest.mark.slow) for n in sorted(CASES)])
def test_ntk_with_identical_F_and_Fdot_is_not_aliased(cache, name):
    """exp, 2 exp and sin + cos have F = Fdot: the generated code returns one array for both; the
    static NTK must still match the independent recursion (was off by 1e3 at L = 1, inf at L >= 2)."""
    from symndk.checks.activation import activation_kernel
    from symndk.kernels.static import nngp_kernel, ntk_kernel

    expr, F, Fdot, V = CASES[name]
    activation_kernel(expr, name)
    X = np.array([[1.0, 0.5, -0.2], [0.2, -0.3, 0.4], [0.7, 0.1, 0.0], [-0.5, 0.3, 0.6]])
    for depth in (1, 2, 3):
        with mpmath.workdps(30):
            want = _ntk_mp(X, depth, 0.25, F, Fdot, V)
        got = ntk_kernel(X, activation=name, depth=depth, sigma_sq=0.25).train
        assert np.max(np.abs(got - want) / np.abs(want)) < 1e-12, (name, depth)
        assert nngp_kernel(X, activation=name, depth=depth, sigma_sq=0.25).train.shape == (4, 4)


# ---- series truncation per argument (issue 12 item 5) -----------------------------------------------

def _softplus(x):
    return np.logaddexp(0.0, x)


def _mp_softplus_F(q1, q2, rho, dps=17):
    """E[softplus(u) softplus(v)] by mpmath 2-D quadrature (Cholesky factor of the covariance)."""
    with mpmath.workdps(dps):
        q1, q2, rho = mpmath.mpf(q1), mpmath.mpf(q2), mpmath.mpf(rho)
        s1, s2 = mpmath.sqrt(q1), mpmath.sqrt(q2)
        r = mpmath.sqrt(1 - rho * rho)
        sp = lambda x: mpmath.log1p(mpmath.exp(x)) if x < 30 else x + mpmath.log1p(mpmath.exp(-x))  # noqa: E731
        f = lambda z1, z2: mpmath.npdf(z1) * mpmath.npdf(z2) * sp(s1 * z1) * sp(s2 * (rho * z1 + r * z2))  # noqa: E731
        return mpmath.quad(f, [-10, 0, 10], [-10, 0, 10])


@pytest.mark.parametrize("rho", [pytest.param(0.99, marks=pytest.mark.slow), 1.0])
def test_mehler_truncation_bound_holds_per_argument(rho):
    """softplus at tol 1e-12 with q1 = 1, q2 = 4: the two arguments need different orders. Cutting
    at the smaller one claimed 2.6e-14 for an error of 4.5e-11; the bound must hold."""
    from symndk.kernels.mehler import MehlerTable
    from symndk.kernels.quadrature import MehlerSeries

    q1, q2 = np.array([1.0, 0.5]), np.array([4.0, 4.0])
    c = rho * np.sqrt(q1 * q2)
    exact = np.array([float(_mp_softplus_F(a, b, rho)) for a, b in zip(q1, q2)])
    for kernel in (MehlerSeries(_softplus, 1e-12), MehlerTable(_softplus, 1e-12)):
        value, bound = kernel.evaluate(q1, q2, c)
        assert np.all(np.abs(value - exact) <= bound + 4e-15 * np.abs(exact)), (type(kernel).__name__, value - exact, bound)
        assert bound.max() <= 1e-12 * 10


@pytest.mark.slow
def test_table_accuracy_over_the_domain_against_mpmath():
    """tanh at q in [1e-3, 1e3], rho in [-1, 1] (endpoints and 1 - 1e-9 included): relative to
    sqrt(V1 V2), within 1e-10 of 25-digit mpmath quadrature, and within the bound it reports."""
    from symndk.kernels.mehler import MehlerTable

    table = MehlerTable(np.tanh, 1e-12)
    pts = [(1e-3, 1e3, 0.5), (1e3, 1e3, 1.0), (1e3, 2e2, -1.0), (0.3, 7.0, 1 - 1e-9), (1e-3, 1e-3, -0.7), (20.0, 30.0, 0.97)]
    q1, q2, rho = (np.array(v) for v in zip(*pts))
    c = rho * np.sqrt(q1 * q2)
    value, bound = table.evaluate(q1, q2, c)
    _, V1 = table.moments(q1)
    _, V2 = table.moments(q2)
    with mpmath.workdps(25):
        exact = []
        for a, b, r in pts:
            s1, s2, cr = mpmath.sqrt(a), mpmath.sqrt(b), mpmath.sqrt(max(1 - mpmath.mpf(r) ** 2, 0))
            g = lambda z1, z2: mpmath.npdf(z1) * mpmath.npdf(z2) * mpmath.tanh(s1 * z1) * mpmath.tanh(s2 * (r * z1 + cr * z2))  # noqa: E731
            cut = [-12, -1 / s1, 0, 1 / s1, 12]
            exact.append(float(mpmath.quad(g, cut, [-12, 0, 12], maxdegree=8)))
    err = np.abs(value - np.array(exact)) / np.sqrt(V1 * V2)
    assert err.max() <= 1e-10, err
    assert np.all(np.abs(value - exact) <= bound + 1e-12 * np.sqrt(V1 * V2))


def test_large_inputs_are_chunked_and_agree():
    """A 300 x 400 block evaluates in chunks (memory bounded) and equals the entrywise evaluation."""
    from symndk.kernels import mehler

    table = mehler.MehlerTable(_softplus, 1e-12)
    rng = np.random.default_rng(1)
    q1 = rng.uniform(0.2, 3.0, (300, 1))
    q2 = rng.uniform(0.2, 3.0, (1, 400))
    c = rng.uniform(-0.95, 0.95, (300, 400)) * np.sqrt(q1 * q2)
    value, bound = table.evaluate(q1, q2, c)
    idx = rng.integers(0, 300, 20), rng.integers(0, 400, 20)
    single, _ = table.evaluate(q1[idx[0], 0], q2[0, idx[1]], c[idx])
    np.testing.assert_allclose(value[idx], single, rtol=0, atol=1e-14)
    assert bound.max() <= 1e-12 and mehler.CHUNK < value.size


def test_table_cache_is_recorded_and_tampering_is_refused(cache):
    """The table is written once into the hash-recorded cache and reused; a modified file is not loaded."""
    from symndk.checks.activation import activation_kernel
    from symndk.kernels import loader
    from symndk.kernels.quadrature import relative_error_bound

    activation_kernel("log(1 + exp(x))", "t_softplus", tol=1e-10)
    files = sorted(loader.cache_dir().glob("t_softplus-*.mehler"))
    assert len(files) == 2  # phi and phi'
    loader.forget("t_softplus")
    duals = loader.load("t_softplus")
    duals.F(np.array([1.0]), np.array([2.0]), np.array([0.5]))
    assert 0 < relative_error_bound(duals) <= 1e-12
    files[0].write_text(files[0].read_text()[:-10] + "tampered\n")
    loader.forget("t_softplus")
    with pytest.raises(ValueError):  # read_recorded: modified after symndk wrote it
        from symndk.files import read_recorded
        read_recorded(loader.cache_dir(), files[0].name)
    duals = loader.load("t_softplus")  # rebuilt in memory, not loaded from the tampered file
    assert abs(float(duals.V(np.array([1.0]))[0]) - float(_mp_V_softplus(1.0))) < 1e-13


def _mp_V_softplus(q):
    with mpmath.workdps(20):
        s = mpmath.sqrt(q)
        return mpmath.quad(lambda z: mpmath.npdf(z) * mpmath.log1p(mpmath.exp(s * z)) ** 2, [-mpmath.inf, 0, mpmath.inf])


# ---- honest failure (issue 12 item 2) ----------------------------------------------------------------

@pytest.mark.parametrize("expr", ["1/x", "exp(x**2)", "log(x)"])
def test_non_integrable_activation_is_refused_fast(cache, expr):
    import time

    from symndk.checks.activation import activation_kernel
    from symndk.errors import SymndkError
    from symndk.spec.activations import list_activations

    t0 = time.perf_counter()
    with pytest.raises(SymndkError, match="not integrable against the Gaussian"):
        activation_kernel(expr, "t_bad")
    assert time.perf_counter() - t0 < 1.0
    assert "t_bad" not in list_activations()


@pytest.mark.slow
def test_failing_kernel_is_not_written_or_registered_and_force_marks_it(cache):
    """Max(x - 0.5, 0) (kink away from 0, no closed form yet) misses tol: refused, not loadable;
    with force it is written, and loading it warns."""
    import warnings

    from symndk.checks.activation import activation_kernel
    from symndk.errors import SymndkError, SymndkWarning
    from symndk.kernels import loader
    from symndk.spec.activations import list_activations

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SymndkWarning)
        result = activation_kernel("Max(x - 0.5, 0)", "t_kink")
    assert not result.passed and result.modules == () and "NOT WRITTEN" in result.report()
    assert "t_kink" not in list_activations()
    with pytest.raises(SymndkError):
        loader.load("t_kink")
    with pytest.warns(SymndkWarning):
        forced = activation_kernel("Max(x - 0.5, 0)", "t_kink", force=True)
    assert forced.modules
    loader.forget("t_kink")
    with pytest.warns(SymndkWarning, match="--force"):
        loader.load("t_kink")


# ---- the numeric kernel error is counted in predict's error_estimate (issue 12 item 2) -----------------

@pytest.mark.slow
def test_error_estimate_counts_the_numeric_kernel_error(cache):
    """predict with tanh registered as a user activation (numeric F and Fdot): kernels served at a
    loose tol (1e-4: error bounds ~1e-7) move the predictor by a measurable amount, and the
    estimate covers that move (truth: the same solve with kernels at 1e-12); at 1e-12 the
    numeric term is small. Foil: the estimate without the numeric term misses the move."""
    from symndk.checks.activation import activation_kernel
    from symndk.kernels.loader import load
    from symndk.model import NDK, Network

    activation_kernel("tanh(x)", "t_tanh_est", tol=1e-10)
    rng = np.random.default_rng(0)
    X, Xt = rng.standard_normal((10, 5)), rng.standard_normal((3, 5))
    y = np.sign(X[:, 0])
    res = {}
    for tol in (1e-12, 1e-4):
        model = NDK(Network("t_tanh_est", depth=2), X, y, T=0.05)
        kernel = model.kernel(Xt)
        kernel.duals = load("t_tanh_est", "numpy", tol)
        for table in kernel.duals.tables.values():
            table.rel_error = 0.0
        with pytest.warns(Warning) if tol > 1e-10 else _nothing():
            res[tol] = model.predict([0.5, 5.0], Xt)
    loose, tight = res[1e-4], res[1e-12]
    moved = max(np.max(np.abs(loose.test - tight.test)), np.max(np.abs(loose.train - tight.train)))
    numeric = loose.metadata["solver"]["numeric_kernel_error"]
    assert moved > 1e-10                                       # the loose kernels really change the answer
    assert loose.error_estimate >= moved + tight.error_estimate
    assert loose.error_estimate - numeric < moved              # foil: without the numeric term it would miss
    assert tight.metadata["solver"]["numeric_kernel_error"] < 1e-10 and tight.error_estimate < 1e-9


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_many_distinct_variances_per_chunk_are_evaluated():
    """Regression: a call whose chunks each hold more distinct variances than the side limit used to
    fail (the per-chunk side returned None); values agree with the same entries one by one."""
    from symndk.kernels.mehler import MehlerTable

    table = MehlerTable(np.tanh, 1e-12)
    rng = np.random.default_rng(0)
    q1 = np.exp(rng.uniform(-2, 2, (1000, 40)))          # 40,000 distinct variances, > 2^19/257 per chunk
    q2 = np.exp(rng.uniform(-2, 2, (1, 40)))
    c = 0.3 * np.sqrt(q1 * q2)
    value, bound = table.evaluate(q1, q2, c)
    idx = rng.integers(0, 1000, 5), rng.integers(0, 40, 5)
    single, _ = table.evaluate(q1[idx], q2[0, idx[1]], c[idx])
    np.testing.assert_allclose(value[idx], single, rtol=0, atol=1e-14)
    assert np.all(np.isfinite(value)) and bound.max() < 1e-12
