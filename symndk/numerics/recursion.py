"""Two-time prior statistics and the layer recursion of THEORY.md sections 2-4.

One backend-agnostic implementation: only arithmetic and calls to the generated dual
kernels (``duals.F``, ``duals.Fdot``, ``duals.V``), so the same code runs elementwise on
float64 numpy arrays (broadcasting) and on mpmath ``mpf`` scalars.

* :func:`prior_C` -- C(t, s) = sigma^2 e^{-gamma|t-s|} + (sigma0^2 - sigma^2) e^{-gamma(t+s)}.
* :func:`layer_kernels` -- K_L, Kdot_L, Theta_{L-1}, Theta_L at one time pair (t, s) and one
  input pair (x, x'), from the input kernels K_0 and the prior statistics C.
* :func:`ndk` -- K^d(t, s) = e^{-gamma (t-s)} Theta_L(t, s) on data blocks.

Example (ReLU, L = 1, at t = s = 0 the two-time NTK is the static NTK):
    >>> import numpy as np
    >>> from symndk.numerics.recursion import prior_C, layer_kernels
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


def prior_C(t, s, sigma0_sq, sigma_sq, gamma, exp):
    """Prior parameter correlation C(t, s) of THEORY.md section 2 (t >= s).

    Args:
        t, s: times (scalars or broadcasting arrays), t >= s >= 0.
        sigma0_sq: initial weight variance sigma0^2.
        sigma_sq: prior variance sigma^2.
        gamma: T / sigma^2.
        exp: the backend's exponential (``numpy.exp`` or ``mpmath.exp``).

    Returns:
        sigma^2 exp(-gamma (t - s)) + (sigma0^2 - sigma^2) exp(-gamma (t + s)).

    Example:
        >>> import math
        >>> round(prior_C(3.0, 1.0, 2.0, 1.0, 0.5, math.exp), 12)  # e^-1 + e^-2
        0.503214724408
    """
    return sigma_sq * exp(-gamma * (t - s)) + (sigma0_sq - sigma_sq) * exp(-gamma * (t + s))


def layer_kernels(k0_tt, k0_ss, k0_ts, C_tt, C_ss, C_ts, depth, duals):
    """Two-time NNGP, derivative and tangent kernels after ``depth`` layers (THEORY.md section 3).

    Args:
        k0_tt: K_0(x, x) = |x|^2 / N0.
        k0_ss: K_0(x', x') = |x'|^2 / N0.
        k0_ts: K_0(x, x') = x.x' / N0.
        C_tt, C_ss, C_ts: prior statistics C(t, t), C(s, s), C(t, s).
        depth: number of hidden layers L >= 1.
        duals: module-like object with ``F(q1, q2, c)``, ``Fdot(q1, q2, c)`` and ``V(q)``
            (``symndk.numerics.duals.load(name, backend)``).

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
    k_tt, k_ss, k_ts, theta = k0_tt, k0_ss, k0_ts, k0_ts
    for _ in range(int(depth)):
        q1, q2, c = C_tt * k_tt, C_ss * k_ss, C_ts * k_ts
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
