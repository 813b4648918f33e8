"""Markov proximal learning (docs/theory.md §D) as SymPy objects: the runtime equations of
:mod:`symndk.runtime.proximal` evaluated on SymPy numbers.

Convention: beta = 1 / (2 T), kappa = gamma = T / sigma^2, time t = n / lambda. The AR(1) prior of
one parameter: a = lambda / (lambda + kappa), v = 1 / (beta (lambda + kappa)),

    C_n = sigma0^2 a^{2n} + c_inf (1 - a^{2n}),  c_inf = sigma^2 2 (lambda + kappa) / (2 lambda + kappa),
    C(n, m) = a^{n-m} C_m,  Cov(theta_n, theta'_m) = a^{n-m} (C_m - v)  (sibling theta'_m),

and the discrete NDK DeltaK(n, m) = G_{n,m}(C(n, m)) - G_{n,m}(C(n, m) - a^{n-m} v), an integral of
Theta_L[c] over that c-interval (:func:`delta_kernel_integral`).

Example:
    >>> sp.simplify(C_INF.subs(kappa_sym, T / sigma_sq).subs(sigma_sq, 1) - 2 * (lam + T) / (2 * lam + T))
    0
    >>> sp.simplify((A**2 * C_INF + V - C_INF).subs(CONVENTION))
    0
    >>> C_n(0)
    sigma0_sq
"""
from __future__ import annotations

import sympy as sp

from symndk.runtime import proximal as runtime
from symndk.spec.prior import T, sigma0_sq, sigma_sq

lam = sp.Symbol("lambda", positive=True)
kappa_sym = sp.Symbol("kappa", positive=True)
beta = sp.Symbol("beta", positive=True)
n = sp.Symbol("n", integer=True, nonnegative=True)
m = sp.Symbol("m", integer=True, nonnegative=True)
c = sp.Symbol("c", real=True)

#: the conventions of docs/theory.md §D
BETA_DEF = sp.Eq(beta, 1 / (2 * T))
KAPPA_DEF = sp.Eq(kappa_sym, T / sigma_sq)


def _log1p(x):
    return sp.log(1 + x)


def _expm1(x):
    return sp.exp(x) - 1


#: a, v and rate = -log a of one step (beta, kappa symbolic)
A, V, RATE = runtime.chain(lam, kappa_sym, beta, _log1p)
#: c_inf at the convention beta = 1/(2T), kappa = T/sigma^2 (in terms of sigma^2, lambda, kappa)
C_INF = runtime.stationary_variance(sigma_sq, lam, kappa_sym)
#: substitutions that impose the convention
CONVENTION = {beta: 1 / (2 * T), kappa_sym: T / sigma_sq}


def C_n(k, s0=sigma0_sq):
    """C_k = sigma0^2 a^{2k} + c_inf (1 - a^{2k}) (the runtime :func:`~symndk.runtime.proximal.variance`)."""
    return runtime.variance(k, s0, C_INF, RATE, sp.exp, _expm1)


def C_nm(k1, k2, s0=sigma0_sq):
    """C(k1, k2) = a^{k1-k2} C_{k2}, k1 >= k2."""
    return runtime.covariance(k1, k2, C_n(k2, s0), RATE, sp.exp)


def sibling(k1, k2, s0=sigma0_sq):
    """Cov(theta_{k1}, theta'_{k2}) = a^{k1-k2} (C_{k2} - v), sibling theta'_{k2} of theta_{k2}."""
    return runtime.sibling_covariance(k1, k2, C_n(k2, s0), V, RATE, sp.exp)


def output_kernel(duals, depth, k_tt, k_ss, k_ts, Cn, Cm, cc=c):
    """G_{n,m}(c) = c K_L[c] for the SymPy dual kernels ``duals`` (:class:`symndk.spec.recursion.SymbolicDuals`)."""
    return runtime.output_kernel(k_tt, k_ss, k_ts, Cn, Cm, cc, depth, duals)


def tangent(duals, depth, k_tt, k_ss, k_ts, Cn, Cm, cc=c):
    """Theta_L[c] (the runtime tangent recursion at C(t,s) -> c)."""
    return runtime.tangent(k_tt, k_ss, k_ts, Cn, Cm, cc, depth, duals)


def delta_kernel_integral(duals, depth, k_tt, k_ss, k_ts, Cn, Cm, c_hi, width):
    """DeltaK = Integral(Theta_L[c], (c, c_hi - width, c_hi)) as an unevaluated SymPy integral."""
    return sp.Integral(tangent(duals, depth, k_tt, k_ss, k_ts, Cn, Cm), (c, c_hi - width, c_hi))


def delta_kernel_difference(duals, depth, k_tt, k_ss, k_ts, Cn, Cm, c_hi, width):
    """DeltaK = G(c_hi) - G(c_hi - width) (the plain difference)."""
    return runtime.delta_kernel_difference(k_tt, k_ss, k_ts, Cn, Cm, c_hi, width, depth, duals)


def equilibrium_kernels(duals, depth, k_tt, k_ss, k_ts):
    """(K0, K1) = (G(c_inf), G(a c_inf)) at variances c_inf: the finite-lambda equilibrium is
    f(x, inf) = (k0 + k1)(x)^T (K0 + K1 + I / beta)^{-1} Y (docs/theory.md §D)."""
    G = lambda cc: output_kernel(duals, depth, k_tt, k_ss, k_ts, C_INF, C_INF, cc)  # noqa: E731
    return G(C_INF), G(A * C_INF)
