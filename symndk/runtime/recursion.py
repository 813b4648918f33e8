"""Two-time prior statistics and the layer recursion of THEORY.md sections 2-4.

One backend-agnostic implementation: only arithmetic and calls to the generated dual
kernels (``duals.F``, ``duals.Fdot``, ``duals.V``), so the same code runs elementwise on
float64 numpy arrays (broadcasting) and on mpmath ``mpf`` scalars.

* :func:`prior_C` -- C(t, s) = sigma^2 e^{-gamma|t-s|} + (sigma0^2 - sigma^2) e^{-gamma(t+s)}.
* :func:`prior_gram` -- C(t,t) C(s,s) - C(t,s)^2 without cancellation.
* :func:`layer_kernels` -- K_L, Kdot_L, Theta_{L-1}, Theta_L at one time pair (t, s) and one
  input pair (x, x'), from the input kernels K_0 and the prior statistics C.
* :func:`ndk` -- K^d(t, s) = e^{-gamma (t-s)} Theta_L(t, s) on data blocks.

Example (ReLU, L = 1, at t = s = 0 the two-time NTK is the static NTK):
    >>> import numpy as np
    >>> from symndk.runtime.recursion import prior_C, layer_kernels
    >>> class ReLU:  # THEORY section 9 closed forms (the generated module has the same names)
    ...     @staticmethod
    ...     def F(q1, q2, c):
    ...         th = np.arccos(np.clip(c / np.sqrt(q1 * q2), -1, 1))
    ...         return np.sqrt(q1 * q2) * (np.sin(th) + (np.pi - th) * np.cos(th)) / (2 * np.pi)
    ...     @staticmethod
    ...     def Fdot(q1, q2, c):
    ...         return (np.pi - np.arccos(np.clip(c / np.sqrt(q1 * q2), -1, 1))) / (2 * np.pi)
    ...     @staticmethod
    ...     def V(q):
    ...         return q / 2
    >>> C = prior_C(0.0, 0.0, 0.5, 1.0, 0.01, np.exp)
    >>> float(C)
    0.5
    >>> K, Kdot, Th0, Th1 = layer_kernels(1.0, 1.0, 1.0, C, C, C, 1, ReLU)
    >>> [round(float(v), 6) for v in (K, Kdot, Th0, Th1)]
    [0.25, 0.5, 1.0, 0.5]
"""
from __future__ import annotations


def prior_C(t, s, sigma0_sq, sigma_sq, gamma, exp, lag=None):
    """Prior parameter correlation C(t, s) of THEORY.md section 2 (t >= s).

    Args:
        t, s: times (scalars or broadcasting arrays), t >= s >= 0.
        sigma0_sq: initial weight variance sigma0^2.
        sigma_sq: prior variance sigma^2.
        gamma: T / sigma^2.
        exp: the backend's exponential (``numpy.exp`` or ``mpmath.exp``).
        lag: optional t - s, when known more accurately than the difference of t and s.

    Returns:
        sigma^2 exp(-gamma (t - s)) + (sigma0^2 - sigma^2) exp(-gamma (t + s)).

    Example:
        >>> import math
        >>> round(prior_C(3.0, 1.0, 2.0, 1.0, 0.5, math.exp), 12)  # e^-1 + e^-2
        0.503214724408
    """
    lag = t - s if lag is None else lag
    return sigma_sq * exp(-gamma * lag) + (sigma0_sq - sigma_sq) * exp(-gamma * (t + s))


def prior_gram(t, s, sigma0_sq, sigma_sq, gamma, exp, expm1, lag=None):
    """C(t,t) C(s,s) - C(t,s)^2 without cancellation (NUMERICS.md section 5), t >= s.

    It equals (1 - e^{-2 gamma (t-s)}) sigma^2 C(s, s), and 1 - e^{-2 gamma (t-s)} = -e (e + 2)
    with e = expm1(-gamma (t - s)).

    Example:
        >>> import math
        >>> a = prior_gram(2.0, 1.0, 2.0, 1.0, 0.3, math.exp, math.expm1)
        >>> C = lambda t, s: prior_C(t, s, 2.0, 1.0, 0.3, math.exp)
        >>> abs(a - (C(2.0, 2.0) * C(1.0, 1.0) - C(2.0, 1.0) ** 2)) < 1e-15
        True
        >>> prior_gram(5.0, 5.0, 2.0, 1.0, 0.3, math.exp, math.expm1)
        0.0
    """
    e = expm1(-gamma * (t - s if lag is None else lag))
    return -e * (e + 2) * sigma_sq * prior_C(s, s, sigma0_sq, sigma_sq, gamma, exp)


def layer_kernels(k0_tt, k0_ss, k0_ts, C_tt, C_ss, C_ts, depth, duals, D_C=None, D_0=None):
    """Two-time NNGP, derivative and tangent kernels after ``depth`` layers (THEORY.md section 3).

    Args:
        k0_tt: K_0(x, x) = |x|^2 / N0.
        k0_ss: K_0(x', x') = |x'|^2 / N0.
        k0_ts: K_0(x, x') = x.x' / N0.
        C_tt, C_ss, C_ts: prior statistics C(t, t), C(s, s), C(t, s).
        depth: number of hidden layers L >= 1.
        duals: module-like object with ``F(q1, q2, c)``, ``Fdot(q1, q2, c)`` and ``V(q)``
            (``symndk.kernels.loader.load(name, backend)``).
        D_C: optional C_tt C_ss - C_ts^2 computed without cancellation (:func:`prior_gram`).
        D_0: optional input Gram determinant k0_tt k0_ss - k0_ts^2.

    If ``duals`` has the fused ``layer(q1, q2, c, D) -> (F, Fdot, V V - F^2)`` map and ``D_C`` is
    given, the Gram determinant D = q1 q2 - c^2 = D_C K_tt K_ss + C_ts^2 D_K is carried through
    the layers as a primary variable, so the kernels keep their digits as rho -> 1 (the
    same-input diagonal at short lags).

    Returns:
        ``(K_L, Kdot_L, Theta_{L-1}, Theta_L)`` at (t, s; x, x'), elementwise.
        Theta_0 = K_0 and Theta_l = K_l + C(t, s) Kdot_l Theta_{l-1}.

    Example (linear activation at t = s: K_l = C^l K_0 and Theta_l = (l + 1) C^l K_0):
        >>> class Linear:
        ...     F = staticmethod(lambda q1, q2, c: c)
        ...     Fdot = staticmethod(lambda q1, q2, c: 1.0)
        ...     V = staticmethod(lambda q: q)
        >>> layer_kernels(2.0, 2.0, 2.0, 0.5, 0.5, 0.5, 3, Linear)
        (0.25, 1.0, 1.5, 1.0)
    """
    if int(depth) != depth or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    fused = D_C is not None and hasattr(duals, "layer")
    k_tt, k_ss, k_ts, theta = k0_tt, k0_ss, k0_ts, k0_ts
    D_K = (k0_tt * k0_ss - k0_ts * k0_ts) if D_0 is None else D_0
    for _ in range(int(depth)):
        q1, q2, c = C_tt * k_tt, C_ss * k_ss, C_ts * k_ts
        if fused:
            D = D_C * k_tt * k_ss + C_ts * C_ts * D_K
            k_ts, kdot, D_K = duals.layer(q1, q2, c, D)
        else:
            k_ts, kdot = duals.F(q1, q2, c), duals.Fdot(q1, q2, c)
        k_tt, k_ss = duals.V(q1), duals.V(q2)
        theta_prev, theta = theta, k_ts + C_ts * kdot * theta
    return k_ts, kdot, theta_prev, theta


def ndk(k0_tt, k0_ss, k0_ts, t, s, sigma0_sq, sigma_sq, gamma, depth, duals, exp):
    """Neural Dynamical Kernel K^d(t, s) = exp(-gamma (t - s)) Theta_L(t, s) (THEORY.md section 4).

    Inputs broadcast elementwise (e.g. ``k0_ts`` a P x P Gram block, ``k0_tt`` a column of
    squared norms, ``k0_ss`` a row). t >= s.

    Example (linear activation, L = 1: K^d = e^{-gamma(t-s)} (C(t,s) K_0 + C(t,s) K_0)):
        >>> import math
        >>> class Linear:
        ...     F = staticmethod(lambda q1, q2, c: c)
        ...     Fdot = staticmethod(lambda q1, q2, c: 1.0)
        ...     V = staticmethod(lambda q: q)
        >>> round(ndk(1.0, 1.0, 1.0, 0.0, 0.0, 0.5, 1.0, 0.1, 1, Linear, math.exp), 12)
        1.0
    """
    C_tt = prior_C(t, t, sigma0_sq, sigma_sq, gamma, exp)
    C_ss = prior_C(s, s, sigma0_sq, sigma_sq, gamma, exp)
    C_ts = prior_C(t, s, sigma0_sq, sigma_sq, gamma, exp)
    theta = layer_kernels(k0_tt, k0_ss, k0_ts, C_tt, C_ss, C_ts, depth, duals)[3]
    return exp(-gamma * (t - s)) * theta
