"""API fuzz (issue 10 item 5): bad inputs to every public entry point are refused with one
SymndkError line -- never a raw exception, a silent result or a hang (names that could execute a file are covered
by tests/test_security.py).

The same 173 cases run against the first release (a152659) gave 2 accepted silently, 2 raw
exceptions and 1 hang among the simulator's cases alone (the closing note has the full counts)."""
import signal

import numpy as np
import pytest

import symndk
from symndk.errors import SymndkError

RNG = np.random.default_rng(0)
X, Y, XT = RNG.standard_normal((4, 3)), np.array([1.0, -1, 1, -1]), RNG.standard_normal((2, 3))
XNAN, XINF, YNAN, XDUP = X.copy(), X.copy(), Y.copy(), X.copy()
XNAN[0, 0], XINF[1, 1], YNAN[2], XDUP[1] = np.nan, np.inf, np.nan, X[0]

NAMES = [dict(activation=a) for a in ("../x", "/tmp/evil", "__init__", "relu_mpmath", "", "no_such_act", 3)]
SCALARS = [dict(depth=d) for d in (0, -1, 1.5, 10**6, "2")] + \
          [dict(sigma_sq=v) for v in (-1.0, 0.0, np.nan, np.inf)] + [dict(sigma0_sq=v) for v in (-1.0, np.nan)] + \
          [dict(T=v) for v in (-1.0, np.nan, np.inf)]
DATA = [dict(X_train=XNAN), dict(X_train=XINF), dict(X_train=np.zeros((0, 3)), y_train=np.zeros(0)),
        dict(X_train=X[0]), dict(y_train=Y[:3]), dict(y_train=YNAN), dict(X_test=XT[:, :2])]
TIMES = [dict(times=t) for t in ([0, np.inf], [-1.0, 1.0], [2.0, 1.0], [0, 1e300], [], "abc", [[1.0, 2.0]])]
SIM = [dict(width=0), dict(width=-5), dict(width=10**9), dict(n_networks=0), dict(n_networks=-1), dict(dt=0.0),
       dict(dt=-0.1), dict(dt=np.nan), dict(seed=-1)]


def _cases():
    for fn in ("predict", "nngp_equilibrium", "ntk_equilibrium", "simulate"):
        base = dict(X_train=X, y_train=Y, X_test=XT)
        extra = {"predict": dict(times=[1.0]), "simulate": dict(times=[1.0], n_networks=8, width=16)}.get(fn, {})
        bad = DATA + NAMES + SCALARS + (TIMES if extra else []) + (SIM if fn == "simulate" else [])
        bad += [dict(X_train=XDUP)] if fn == "ntk_equilibrium" else []
        for b in bad:
            yield fn, {**base, **extra, **b}
    for fn in ("nngp_kernel", "ntk_kernel"):
        for b in [dict(X1=XNAN), dict(X1=XINF), dict(X1=np.zeros((0, 3))), dict(X2=XT[:, :2]),
                  dict(activation="../x"), dict(activation="__init__"), dict(depth=0), dict(depth=10**6),
                  dict(sigma_sq=-1.0), dict(sigma_sq=np.nan), dict(depth=100, sigma_sq=1e6)]:
            yield fn, {"X1": X, **b}
    for name, expr in [("../x", "x"), ("/tmp/x", "x"), ("ok_name1", "__import__('os').system('true')"),
                       ("ok_name2", "x**"), ("ok_name3", "x**(10**10)"), ("ok_name4", "exec('1')"), ("ok_name5", 3.5),
                       ("__init__", "x")]:
        yield "register_activation", dict(name=name, expr=expr)
    for name in ["../x", "/tmp/evil", "__init__", "relu_mpmath", "_runtime"]:
        yield "load_kernels", dict(name=name)


CASES = list(_cases())


class _Hang(Exception):
    pass


def _alarm(*_):
    raise _Hang


@pytest.mark.parametrize("fn, kwargs", CASES, ids=[f"{fn}-{i}" for i, (fn, _) in enumerate(CASES)])
def test_bad_input_is_one_symndk_error(fn, kwargs, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(30)
    try:
        with pytest.raises(SymndkError) as err:
            getattr(symndk, fn)(**kwargs, **({"progress": False} if fn == "simulate" else {}))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert "\n" not in str(err.value).strip()
