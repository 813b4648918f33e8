"""Prior and two-time recursion: the symbolic and mpmath paths agree; known special cases."""
import mpmath as mp
import sympy as sp

from symndk.spec.activations import get_activation
from symndk.spec.prior import C_ts, gamma, prior_C, s, sigma0_sq, sigma_sq, t
from symndk.spec.recursion import MpDuals, SymbolicDuals, layer_kernels, ndk

VALS = {t: sp.Rational(3, 2), s: sp.Rational(1, 2), gamma: sp.Rational(1, 3), sigma0_sq: sp.Rational(1, 2), sigma_sq: 1}


def test_prior_branches():
    assert prior_C(0, 0) == sigma0_sq
    pw = prior_C(t, s, ordered=False)
    assert sp.expand(pw.subs(VALS) - prior_C(s, t).subs(VALS)) != 0  # t > s branch used
    assert sp.expand(pw.subs(VALS) - C_ts.subs(VALS)) == 0


def test_symbolic_and_mpmath_recursions_agree():
    act = get_activation("relu")
    syms = sp.symbols("k_tt k_ss k_ts C_tt C_ss C_ts", positive=True)
    sym = layer_kernels(SymbolicDuals(act), 3, *syms)
    point = [mp.mpf(v) for v in ("1.2", "0.8", "0.3", "0.9", "0.8", "0.4")]
    with mp.workdps(40):
        num = layer_kernels(MpDuals(act), 3, *point)
        for a, b in zip(sym, num):
            assert abs(sp.lambdify(syms, a.Theta_ts, "mpmath")(*point) - b.Theta_ts) < mp.mpf(10) ** -35
        assert ndk(num, mp.mpf(2), mp.mpf(1), g=mp.mpf(1), exp=mp.exp) == mp.exp(-1) * num[3].Theta_ts


def test_linear_ntk_at_initialisation():
    k_tt, k_ss, k_ts = sp.symbols("k_tt k_ss k_ts", positive=True)
    lay = layer_kernels(SymbolicDuals(get_activation("linear")), 3, k_tt, k_ss, k_ts, sigma0_sq, sigma0_sq, sigma0_sq)
    assert sp.expand(lay[3].Theta_ts - 4 * sigma0_sq**3 * k_ts) == 0
