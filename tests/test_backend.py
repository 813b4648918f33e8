"""Array-API backends (issue 16): the generated kernels, the runtime recursion and the static kernels in
array_api_strict (the standard and nothing else), against NumPy and against mpmath near rho = 1."""
import math

import mpmath
import numpy as np
import pytest

from symndk.backend.namespace import namespace_duals
from symndk.backend.select import resolve, to_numpy
from symndk.errors import SymndkError
from symndk.kernels.loader import load, shipped
from symndk.kernels.static import static_kernels
from symndk.runtime.recursion import layer_kernels, prior_C, prior_gram
from test_static import _mp_reference, _pair  # the rho -> 1 pair and the 40-digit mpmath recursion

xp = pytest.importorskip("array_api_strict")
CLOSED = [n for n in shipped() if load(n).CLOSED_FORM and not load(n).NUMERIC]


def _points(rng, n=200):
    q1, q2 = rng.uniform(0.1, 3.0, n), rng.uniform(0.1, 3.0, n)
    rho = np.concatenate([rng.uniform(-1, 1, n - 4), [1.0, -1.0, 1 - 1e-12, 0.0]])
    return q1, q2, rho * np.sqrt(q1 * q2)


@pytest.mark.parametrize("name", CLOSED)
def test_generated_kernels_in_array_api_strict_equal_numpy(name):
    duals, strict = load(name), namespace_duals(load(name), xp)
    q1, q2, c = _points(np.random.default_rng(1))
    a = [xp.asarray(v) for v in (q1, q2, c)]
    for fn in ("F", "Fdot", "kernels", "layer"):
        want, got = getattr(duals, fn)(q1, q2, c), getattr(strict, fn)(*a)
        for w, g in zip(*(v if isinstance(v, tuple) else (v,) for v in (want, got))):
            assert isinstance(g, type(a[0]))
            np.testing.assert_allclose(to_numpy(g), np.broadcast_to(w, q1.shape), rtol=1e-13, atol=1e-15, err_msg=fn)
    for fn in ("V", "Vdot"):
        np.testing.assert_allclose(to_numpy(getattr(strict, fn)(a[0])), getattr(duals, fn)(q1), rtol=1e-14)


def test_two_time_recursion_runs_in_array_api_strict():
    """The runtime recursion at t > s (Gram determinant of the prior carried) is namespace-agnostic."""
    rng = np.random.default_rng(4)
    k_tt, k_ss = rng.uniform(0.5, 2, (5, 1)), rng.uniform(0.5, 2, (1, 6))
    k_ts = rng.uniform(-0.9, 0.9, (5, 6)) * np.sqrt(k_tt * k_ss)
    C = [prior_C(a, b, 0.5, 1.0, 0.1, math.exp) for a, b in ((3.0, 3.0), (1.0, 1.0), (3.0, 1.0))]
    D_C = prior_gram(3.0, 1.0, 0.5, 1.0, 0.1, math.exp, math.expm1)
    for name in ("relu", "erf"):
        want = layer_kernels(k_tt, k_ss, k_ts, *C, 3, load(name), D_C=D_C)
        got = layer_kernels(*(xp.asarray(v) for v in (k_tt, k_ss, k_ts)), *C, 3, namespace_duals(load(name), xp),
                            D_C=D_C)
        for w, g in zip(want, got):
            np.testing.assert_allclose(to_numpy(g), w, rtol=1e-14)


@pytest.mark.parametrize("activation", ["relu", "erf", "gelu"])
def test_static_kernels_in_array_api_strict_equal_numpy(activation):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 12))
    X[5] = X[17]
    X[30] = X[31] + 1e-9 * rng.standard_normal(12)
    X2 = rng.standard_normal((6, 12))
    X2[2] = X[5]
    ref = static_kernels(X, X2, activation=activation, depth=3, sigma_sq=1.3)
    got = static_kernels(xp.asarray(X), xp.asarray(X2), activation=activation, depth=3, sigma_sq=1.3)
    for part in ("nngp", "ntk"):
        for which in ("train", "test"):
            g, w = getattr(getattr(got, part), which), getattr(getattr(ref, part), which)
            assert isinstance(g, xp.asarray(1.0).__class__)
            g = to_numpy(g)
            assert np.abs(g - w).max() <= 1e-14 * np.abs(w).max(), (part, which)
        g = to_numpy(getattr(got, part).train)
        assert np.array_equal(g, g.T)
        assert g[5, 17] == g[5, 5] == g[17, 17]  # duplicated inputs pinned to the same-input chain


@pytest.mark.parametrize("delta", [1e-8, 1e-12])
@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_gram_determinant_carry_kept_in_array_api_strict(activation, delta):
    X = _pair(delta)
    K_ref, T_ref = _mp_reference(X, activation, 2, 1.0)
    got = static_kernels(xp.asarray(X), activation=activation, depth=2)
    for mat, ref in ((to_numpy(got.nngp.train), K_ref), (to_numpy(got.ntk.train), T_ref)):
        err = max(abs((mpmath.mpf(float(mat[i, j])) - ref[i][j]) / ref[i][j]) for i in range(2) for j in range(2))
        assert err < 1e-14, err
    if activation == "relu" and delta == 1e-12:  # foil: the same namespace without the carry loses digits
        strict = namespace_duals(load("relu"), xp)
        k0 = xp.asarray(X @ X.T / X.shape[1])
        q = xp.asarray(np.diag(X @ X.T / X.shape[1]))
        _, _, _, theta = layer_kernels(q[:, None], q[None, :], k0, 1.0, 1.0, 1.0, 2, strict)
        err = abs((mpmath.mpf(float(to_numpy(theta)[0, 1])) - T_ref[0][1]) / T_ref[0][1])
        assert err > 1e-12, err


def test_backend_selected_by_argument_and_environment(monkeypatch):
    X = np.random.default_rng(0).standard_normal((5, 4))
    got = static_kernels(X, activation="relu", depth=1, backend="array_api_strict")
    assert type(got.ntk.train).__module__.startswith("array_api_strict")
    monkeypatch.setenv("SYMNDK_BACKEND", "array_api_strict")
    env = static_kernels(X, activation="relu", depth=1)
    assert np.array_equal(to_numpy(env.ntk.train), to_numpy(got.ntk.train))
    monkeypatch.setenv("SYMNDK_BACKEND", "numpy")
    assert isinstance(static_kernels(X, activation="relu", depth=1).ntk.train, np.ndarray)
    with pytest.raises(SymndkError, match="backend must be one of"):
        static_kernels(X, backend="tensorflow")
    with pytest.raises(SymndkError, match="finite with no zero rows"):
        static_kernels(xp.asarray(np.zeros((2, 3))))
    with pytest.raises(SymndkError, match="2-D floating-point"):
        static_kernels(xp.asarray(np.ones((2, 3), dtype=np.int64)))


def test_mixed_inputs_follow_the_foreign_namespace():
    rng = np.random.default_rng(2)
    X1, X2 = rng.standard_normal((6, 3)), rng.standard_normal((2, 3))
    xp_, (a, b) = resolve([xp.asarray(X1), X2])
    assert xp_ is xp and type(b) is type(a)


def test_torch_cpu_when_installed():
    torch = pytest.importorskip("torch")
    X = np.random.default_rng(5).standard_normal((30, 8))
    got = static_kernels(torch.asarray(X), activation="erf", depth=2)
    ref = static_kernels(X, activation="erf", depth=2)
    assert isinstance(got.ntk.train, torch.Tensor)
    assert np.abs(to_numpy(got.ntk.train) - ref.ntk.train).max() <= 1e-14 * np.abs(ref.ntk.train).max()


def test_row_blocks_of_the_array_api_path(monkeypatch):
    import symndk.kernels.static as static

    X = np.random.default_rng(8).standard_normal((23, 5))
    X[20] = X[2]
    whole = static_kernels(xp.asarray(X), activation="relu", depth=2)
    monkeypatch.setattr(static, "XP_BLOCK", 50)  # blocks of 2 rows
    blocks = static_kernels(xp.asarray(X), X[:4] + 0.1, activation="relu", depth=2)
    np.testing.assert_allclose(to_numpy(blocks.ntk.train), to_numpy(whole.ntk.train), rtol=1e-15)  # BLAS blocking
    assert np.array_equal(to_numpy(blocks.ntk.train), to_numpy(blocks.ntk.train).T)
    assert to_numpy(blocks.ntk.train)[2, 20] == to_numpy(blocks.ntk.train)[2, 2]
    np.testing.assert_allclose(to_numpy(blocks.ntk.test), static_kernels(X, X[:4] + 0.1, "relu", 2).ntk.test, rtol=1e-14)


def test_compat_wrapped_namespace_runs_the_same_path():
    """array_api_compat's NumPy wrapper stands in for the compat-wrapped libraries (PyTorch, CuPy)."""
    import array_api_compat.numpy as cnp

    import symndk.kernels.static as static

    X = np.random.default_rng(6).standard_normal((25, 9))
    X[3] = X[11]
    ref = static_kernels(X, activation="erf", depth=2)
    got = static._static_xp(X, X[:4] * 1.1, load("erf"), 2, 1.0, 0.0, cnp)
    assert np.abs(got.ntk.train - ref.ntk.train).max() <= 1e-14 * np.abs(ref.ntk.train).max()
    assert got.ntk.train[3, 11] == got.ntk.train[3, 3]
    np.testing.assert_allclose(got.nngp.test, static_kernels(X, X[:4] * 1.1, "erf", 2).nngp.test, rtol=1e-13)


def test_numpy_only_helpers_refuse_in_one_line():
    """A generated module whose kernels call a shared helper with no array-API form (e.g. SciPy's Owen's T)."""
    import types

    module = types.ModuleType("symndk_generated.fake")
    module.NAME, module.CLOSED_FORM, module.ODD, module.NUMERIC = "fake", True, False, ()

    def _bvn(h, k, r, s):
        return np.zeros(np.shape(h))
    _bvn.__module__ = "symndk_generated._runtime"
    exec("def F(q1, q2, c, D=None):\n    return _bvn(q1, q2, c, D)", module.__dict__)
    module.F.__module__ = module.__name__
    module._bvn = _bvn
    fake = namespace_duals(module, xp)
    with pytest.raises(SymndkError, match="'fake': its kernels use _bvn, which runs in NumPy only"):
        fake.F(xp.asarray([1.0]), xp.asarray([1.0]), xp.asarray([0.5]))
