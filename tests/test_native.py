"""The compiled fused layer maps (symndk.kernels.native, generated C in generated/<name>.c).

Against mpmath at 40 digits (the generated mpmath module, evaluated at twice its working precision): the C
kernels are as accurate as the numpy ones (within 4x their error plus 8 ulp of the scale), near rho = +-1
and at small variances included; their values do not depend on the block an entry is in or on memory
alignment (blocks, and the ``_flat`` variant on arrays of one shape); shapes they do not take, a disabled
switch or a missing compiler leave numpy running.
"""
import mpmath
import numpy as np
import pytest

from symndk.errors import SymndkWarning
from symndk.kernels import loader, native
from symndk.kernels.loader import load, shipped
from symndk.kernels.static import static_kernels

COMPILED = [n for n in shipped() if hasattr(load(n), "library")]
pytestmark = pytest.mark.skipif(not COMPILED, reason="no C compiler: the kernels run on numpy")
EPS = np.finfo(float).eps


def _points():
    """q1 per row, q2 per column, rho from -1 + 1e-15 to 1 - 1e-15 and small variances."""
    rng = np.random.default_rng(7)
    q1 = np.array([[0.3], [1.0], [2.7], [1e-6]])
    q2 = rng.uniform(0.2, 3.0, (1, 23))
    q2[0, 5] = 1e-5
    rho = np.concatenate([1 - np.logspace(-15, -1, 8), -1 + np.logspace(-15, -1, 8), rng.uniform(-0.9, 0.9, 7)])
    rho = np.broadcast_to(rho, (4, 23))
    c = rho * np.sqrt(q1 * q2)
    D = q1 * q2 * ((1 - rho) * (1 + rho))
    return q1, q2, c, D


@pytest.mark.parametrize("name", COMPILED)
def test_compiled_kernels_are_as_accurate_as_numpy(name):
    """Per output, the largest error over the points (relative to the scale: sqrt(V1 V2), sqrt(Vdot1 Vdot2),
    V1 V2) of the block and the ``_flat`` C maps is within 4x numpy's plus 8 ulp. Compared as maxima, not
    point by point: where a closed form cancels (cos's Fdot = e^{-(q1+q2)/2} sinh c at small c) one ulp of
    ``exp`` either way is amplified alike, and which side is lucky at a given point is chance."""
    duals, ref = load(name), load(name, "mpmath")
    q1, q2, c, D = _points()
    full = [np.ascontiguousarray(np.broadcast_to(a, c.shape)) for a in (q1, q2, c, D)]
    for fn in ("kernels", "layer"):
        runs = {"block": getattr(duals, fn)(q1, q2, c, D), "flat": getattr(duals, fn)(*full),   # _flat: all per entry
                "numpy": [np.broadcast_to(v, c.shape) for v in getattr(duals, fn).numpy(q1, q2, c, D)]}
        worst = {k: np.zeros(len(runs["numpy"])) for k in runs}
        for i in range(q1.shape[0]):
            for j in range(q2.shape[1]):
                with mpmath.workdps(40):
                    exact = [float(v) for v in getattr(ref, fn)(q1[i, 0], q2[0, j], c[i, j], D[i, j])]
                    v1, v2 = (float(ref.V(q)) for q in (q1[i, 0], q2[0, j]))
                    w1, w2 = (float(ref.Vdot(q)) for q in (q1[i, 0], q2[0, j]))
                scales = (np.sqrt(v1 * v2), np.sqrt(w1 * w2), v1 * v2)
                for run, outs in runs.items():
                    for k, (o, e, s) in enumerate(zip(outs, exact, scales)):
                        worst[run][k] = max(worst[run][k], abs(o[i, j] - e) / s)
        for run in ("block", "flat"):
            assert np.all(worst[run] <= 4 * worst["numpy"] + 8 * EPS), (fn, run, worst)


def _shifted(a, k):
    """A copy of ``a`` whose data starts ``k`` doubles into a fresh buffer (another alignment)."""
    buf = np.empty(a.size + k)
    out = buf[k:].reshape(a.shape)
    out[...] = a
    return out


@pytest.mark.parametrize("name", COMPILED)
def test_an_entry_does_not_depend_on_its_block_or_alignment(name):
    """Every entry goes through the same vector code (partial blocks padded): bit for bit the same alone,
    in a block, at a column offset and at another alignment."""
    duals = load(name)
    q1, q2, c, D = (np.ascontiguousarray(a) for a in _points())
    for fn in ("kernels", "layer"):
        f = getattr(duals, fn)
        full = f(q1, q2, c, D)
        for k in (1, 3):
            assert all(np.array_equal(a, b) for a, b in zip(full, f(*(_shifted(x, k) for x in (q1, q2, c, D)))))
        offset = f(q1, q2[:, 3:], c[:, 3:], D[:, 3:])          # a column slice: strided rows, no copy
        assert all(np.array_equal(a[:, 3:], b) for a, b in zip(full, offset))
        for i, j in ((0, 0), (1, 7), (3, 22), (2, 5)):
            alone = f(q1[i:i + 1], q2[:, j:j + 1], c[i:i + 1, j:j + 1], D[i:i + 1, j:j + 1])
            assert all(a[i, j] == b[0, 0] for a, b in zip(full, alone)), (fn, i, j)
        entries = [np.ascontiguousarray(np.broadcast_to(a, c.shape)).ravel() for a in (q1, q2, c, D)]
        flat = f(*entries)                                            # the _flat variant, 92 entries
        for k in (0, 9, 91):
            assert all(a[k] == b[0] for a, b in zip(flat, f(*(e[k:k + 1] for e in entries)))), (fn, k)
        assert all(np.array_equal(a[5:], b) for a, b in zip(flat, f(*(_shifted(e[5:], 1) for e in entries))))


def test_other_shapes_and_types_run_numpy():
    duals = load("erf")
    q1, q2, c, D = _points()
    for args in ((q1.ravel()[:3], q2.ravel()[:3], c[:3, 0], D[:3, 0]),            # 1-D, c and D not contiguous
                 (q1, q2, c.astype(np.float32), D.astype(np.float32)),             # not float64
                 (q1, q2, np.asfortranarray(c), np.asfortranarray(D)),            # columns not contiguous
                 (q1, q2, c, None)):                                              # D not given
        got, plain = duals.layer(*args), duals.layer.numpy(*args)
        assert all(np.array_equal(a, b) for a, b in zip(got, plain))


def test_switched_off_or_without_a_compiler_numpy_runs(monkeypatch, tmp_path):
    source = loader._c_source("relu")
    module = load("relu").generated
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))     # nothing compiled there yet
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    assert native.accelerate(module, "relu", source) is module
    monkeypatch.delenv("CC")
    monkeypatch.setenv("SYMNDK_NATIVE", "0")
    assert native.accelerate(module, "relu", source) is module
    monkeypatch.delenv("SYMNDK_NATIVE")
    assert native.accelerate(module, "relu", b"this is not C") is module   # does not compile: numpy
    compiled = native.accelerate(module, "relu", source)
    assert compiled is not module and len(list((tmp_path / "symndk" / "native").glob("relu-*.so"))) == 1


def test_static_kernels_agree_with_the_numpy_path(monkeypatch):
    """The compiled and the numpy layer maps through the whole static recursion (depth 3, erf and ReLU,
    nearly collinear pairs included): within 1e-14 of the largest entry."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((120, 50))
    X[7] = X[3] * (1 + 1e-9) + 1e-9                          # a nearly collinear pair
    for name in ("erf", "relu"):
        fast = static_kernels(X, X[:30] + 0.1, activation=name, depth=3)
        monkeypatch.setattr(loader, "_LOADED", {})
        monkeypatch.setenv("SYMNDK_NATIVE", "0")
        slow = static_kernels(X, X[:30] + 0.1, activation=name, depth=3)
        assert not hasattr(load(name), "library")
        monkeypatch.delenv("SYMNDK_NATIVE")
        monkeypatch.setattr(loader, "_LOADED", {})
        for a, b in ((fast.nngp.train, slow.nngp.train), (fast.ntk.train, slow.ntk.train), (fast.ntk.test, slow.ntk.test)):
            assert np.abs(a - b).max() <= 1e-14 * np.abs(b).max()


def test_a_library_symndk_did_not_write_or_that_changed_is_not_loaded(monkeypatch, tmp_path):
    source, module = loader._c_source("erf"), load("erf").generated
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert native.accelerate(module, "erf", source) is not module
    (lib,) = (tmp_path / "symndk" / "native").glob("*.so")
    lib.write_bytes(lib.read_bytes() + b"\0")                  # changed after symndk wrote it
    with pytest.warns(SymndkWarning, match="modified after symndk wrote it"):
        assert native.accelerate(module, "erf", source) is module
    manifest = tmp_path / "symndk" / "native" / "MANIFEST.sha256"
    manifest.write_text("")                                    # now a file symndk has no record of
    with pytest.warns(SymndkWarning, match="not written by symndk"):
        assert native.accelerate(module, "erf", source) is module
    assert lib.exists()                                        # and it is left where it is
