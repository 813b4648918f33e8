"""Markov proximal learning (MPL), written once for every backend (docs/theory.md §D).

One MPL step samples

    p(theta_n | theta_{n-1}) ~ exp{-beta [E(theta_n) + (lambda/2) |theta_n - theta_{n-1}|^2]},
    E = loss + (kappa/2) |theta|^2,   kappa = gamma = T / sigma^2,   beta = 1 / (2 T),

so without the loss every parameter is an AR(1) chain theta_n = a theta_{n-1} + sqrt(v) xi_n with
a = lambda / (lambda + kappa) and v = 1 / (beta (lambda + kappa)). The functions below are plain
arithmetic on the backend's numbers; ``exp``/``expm1``/``log1p`` are passed in (``math``, ``numpy``,
``mpmath``, ``sympy``), and the dual kernels are the same objects :mod:`symndk.runtime.recursion`
takes. :mod:`symndk.spec.proximal` evaluates them on SymPy numbers, :mod:`symndk.dynamics.proximal`
on float64 arrays.

* :func:`chain` -- (a, v, rate) with rate = -log a = log1p(kappa / lambda), so a^k = e^{-rate k};
* :func:`stationary_variance` -- c_inf = v / (1 - a^2) = sigma^2 2 (lambda + kappa) / (2 lambda + kappa);
* :func:`variance` -- C_n = sigma0^2 a^{2n} + c_inf (1 - a^{2n}) (both terms >= 0: no cancellation);
* :func:`covariance` -- C(n, m) = a^{n-m} C_m (n >= m);
* :func:`sibling_covariance` -- Cov(theta_n, theta'_m) = C(n, m) - a^{n-m} v for a sibling theta'_m
  drawn from the same theta_{m-1};
* :func:`gram` -- C_n C_m - C(n, m)^2 = C_m c_inf (1 - a^{2(n-m)}) without cancellation;
* :func:`output_kernel` -- G_{n,m}(c) = c K_L[c], the prior output covariance when every weight pair
  has covariance c and variances C_n, C_m;
* :func:`tangent` -- Theta_L[c] = dG/dc (Price's theorem; the runtime tangent recursion at C_ts = c);
* :func:`delta_kernel` -- the discrete NDK DeltaK(n, m) = G(c_hi) - G(c_hi - w) = int Theta_L[c] dc,
  c_hi = C(n, m), w = a^{n-m} v, evaluated as an integral (Gauss-Legendre in u, c = c_hi - w u^2);
  with parameter groups (biases, per-layer variances) a line integral over the vector of group
  covariances (:func:`segment`);
* :func:`schedule` -- C_n, the products a_{m+1..n} and v_m for a time-dependent lambda_n.

Example (linear activation, L = 1: G(c) = c^2 K_0, so DeltaK = c_hi^2 - (c_hi - w)^2 times K_0):
    >>> import math
    >>> class Linear:
    ...     F = staticmethod(lambda q1, q2, c: c)
    ...     Fdot = staticmethod(lambda q1, q2, c: 1.0)
    ...     V = staticmethod(lambda q: q)
    >>> a, v, rate = chain(1.0, 0.5, 10.0, math.log1p)
    >>> round(a, 12), round(v, 12), round(stationary_variance(1.0, 1.0, 0.5), 12)
    (0.666666666667, 0.066666666667, 1.2)
    >>> nodes, weights = [0.5 - math.sqrt(3) / 6, 0.5 + math.sqrt(3) / 6], [0.5, 0.5]
    >>> dk = delta_kernel(1.0, 1.0, 1.0, 1.2, 1.2, 1.2, v, 0.0, 1, Linear, nodes, weights)
    >>> round(dk, 12) == round(1.2 ** 2 - (1.2 - v) ** 2, 12)
    True
"""
from __future__ import annotations

from symndk.runtime.recursion import Bias, layer_kernels


def chain(lam, kappa, beta, log1p):
    """(a, v, rate) of one MPL step without the loss: a = lambda/(lambda+kappa),
    v = 1/(beta (lambda+kappa)), rate = -log a = log1p(kappa/lambda).

    Example:
        >>> import math
        >>> a, v, rate = chain(4.0, 1.0, 0.5, math.log1p)
        >>> a, v, round(math.exp(-rate), 12)
        (0.8, 0.4, 0.8)
    """
    return lam / (lam + kappa), 1 / (beta * (lam + kappa)), log1p(kappa / lam)


def stationary_variance(sigma_sq, lam, kappa):
    """c_inf = v / (1 - a^2) = sigma^2 * 2 (lambda + kappa) / (2 lambda + kappa) at beta = 1/(2T),
    kappa = T / sigma^2 (docs/theory.md §D); tends to sigma^2 as lambda -> infinity.

    Example:
        >>> stationary_variance(1.0, 1e12, 0.1) - 1.0 < 1e-12
        True
    """
    return sigma_sq * 2 * (lam + kappa) / (2 * lam + kappa)


def variance(n, sigma0_sq, c_inf, rate, exp, expm1):
    """C_n = sigma0^2 a^{2n} + c_inf (1 - a^{2n}) (the AR(1) variance after n steps from sigma0^2).

    Example:
        >>> import math
        >>> variance(0, 2.0, 1.2, 0.4, math.exp, math.expm1)
        2.0
    """
    return sigma0_sq * exp(-2 * rate * n) - c_inf * expm1(-2 * rate * n)


def covariance(n, m, C_m, rate, exp):
    """C(n, m) = a^{n-m} C_m, n >= m."""
    return exp(-rate * (n - m)) * C_m


def sibling_covariance(n, m, C_m, v, rate, exp):
    """Cov(theta_n, theta'_m) = a^{n-m} (C_m - v): theta'_m is a sibling of theta_m (same theta_{m-1},
    independent noise), so Cov(theta_m, theta'_m) = a^2 C_{m-1} = C_m - v."""
    return exp(-rate * (n - m)) * (C_m - v)


def gram(n, m, C_m, c_inf, rate, expm1):
    """C_n C_m - C(n, m)^2 = C_m c_inf (1 - a^{2(n-m)}) (constant lambda), without cancellation."""
    return -C_m * c_inf * expm1(-2 * rate * (n - m))


def output_kernel(k0_tt, k0_ss, k0_ts, C_n, C_m, c, depth, duals, bias=None, D_C=None, D_0=None):
    """G_{n,m}(c) = c K_L[c]: E[f(x; theta_n) f(x'; theta')] when every weight pair (readout
    included) has covariance c and the variances are C_n, C_m (docs/theory.md §3 with C(t,s) -> c).

    Parameter groups (docs/theory.md §D): ``C_n``, ``C_m``, ``c`` (and ``D_C``) lists of L + 1 (W_1..W_L,
    readout) and ``bias`` None or L + 1 entries (Cb_n, Cb_m, cb) or (Cb_n, Cb_m, cb, Db), Db = Cb_n Cb_m - cb^2
    carried without cancellation (:func:`gram`; else the recursion forms it), or None (no bias there); then
    G = c_{L+1} K_L + cb_{L+1}.
    """
    if not isinstance(c, list):
        return c * layer_kernels(k0_tt, k0_ss, k0_ts, C_n, C_m, c, depth, duals, D_C, D_0)[0]
    bias = [None] * len(c) if bias is None else bias
    groups = [Bias(None, None, None, 1, None) if b is None else Bias(b[0], b[1], b[2], 1, 1, b[3] if len(b) > 3 else None)
              for b in bias]
    K_L = layer_kernels(k0_tt, k0_ss, k0_ts, C_n, C_m, c, depth, duals, D_C, D_0, bias=groups)[0]
    return c[-1] * K_L if bias[-1] is None else c[-1] * K_L + bias[-1][2]


def tangent(k0_tt, k0_ss, k0_ts, C_n, C_m, c, depth, duals, D_C=None, D_0=None):
    """Theta_L[c] = dG_{n,m}/dc: the runtime tangent recursion with C(t,s) -> c (Price's theorem)."""
    return layer_kernels(k0_tt, k0_ss, k0_ts, C_n, C_m, c, depth, duals, D_C, D_0)[3]


def segment(c_hi, width, D_hi, bias, x):
    """The point c_hi - width x of the straight segment in the vector of group covariances, in the
    form :func:`symndk.runtime.recursion.layer_kernels` takes: (c, D_C, groups), lists of L + 1, with
    each group's ``width`` as its propagator, so that the recursion's Theta_L is the directional
    derivative sum_g width_g dG/dc_g at that point (docs/theory.md §D). ``bias`` as
    :func:`delta_kernel`; D_C = D_hi + d (2 c_hi - d), d = width x, without cancellation, and likewise
    each bias group's ``Bias.D`` = Db_hi + d_b (2 cb_hi - d_b), d_b = width_b x, where its entry carries Db_hi.

    Example (one weight group of each layer, no biases; then a bias on the first):
        >>> c, D_C, g = segment([1.0, 2.0], [0.5, 0.25], [0.0, 0.0], None, 0.5)
        >>> c, D_C, [b.prop_w for b in g]
        ([0.75, 1.875], [0.4375, 0.484375], [0.5, 0.25])
        >>> segment([1.0, 2.0], [0.5, 0.25], [0.0, 0.0], [(1.0, 1.0, 1.0, 0.5, 0.0), None], 0.5)[2][0].D
        0.4375
    """
    c, D_C, groups = [], [], []
    for l, (ch, w) in enumerate(zip(c_hi, width)):
        d = w * x
        c.append(ch - d)
        D_C.append(None if D_hi is None else D_hi[l] + d * (2 * ch - d))
        b = None if bias is None else bias[l]
        if b is None:
            groups.append(Bias(None, None, None, w, None))
            continue
        db = b[3] * x
        groups.append(Bias(b[0], b[1], b[2] - db, w, b[3], b[4] + db * (2 * b[2] - db) if len(b) > 4 else None))
    return c, (None if D_hi is None else D_C), groups


def delta_kernel(k0_tt, k0_ss, k0_ts, C_n, C_m, c_hi, width, D_hi, depth, duals, nodes, weights, D_0=None,
                 bias=None):
    """The discrete NDK DeltaK = G(c_hi) - G(c_hi - width) = int_{c_hi - width}^{c_hi} Theta_L[c] dc.

    With c = c_hi - width u^2 the integral is int_0^1 2 width u Theta_L[c(u)] du; ``nodes``/``weights``
    are a Gauss-Legendre rule on [0, 1]. The substitution makes the same-input ReLU cusp at the top
    end (c_hi = sqrt(C_n C_m), the diagonal n = m) analytic in u, and nothing is subtracted, so the
    value keeps its relative precision as width -> 0 (the plain difference loses it).

    **Parameter groups** (biases, per-layer variances; docs/theory.md §D): ``C_n``, ``C_m``, ``c_hi``,
    ``width``, ``D_hi`` lists of L + 1 (W_1..W_L, readout) and ``bias`` None or L + 1 entries
    (Cb_n, Cb_m, cb_hi, width_b[, Db_hi]) or None (no bias in that group). G is then a function of the vector
    of group covariances and, by Price's theorem per group, DeltaK is the line integral along the
    straight segment c(u) = c_hi - width u^2 (every group at once):

        DeltaK = int_0^1 2 u sum_g width_g dG/dc_g [c(u)] du,

    where sum_g width_g dG/dc_g is the recursion's Theta_L with each group's propagator replaced by
    its width (:func:`segment`).

    Args:
        k0_tt, k0_ss, k0_ts: input kernels x.x/N0, x'.x'/N0, x.x'/N0 (broadcasting).
        C_n, C_m: parameter variances at the two steps.
        c_hi: C(n, m); width: a^{n-m} v_m (same-replica minus sibling covariance).
        D_hi: C_n C_m - c_hi^2 without cancellation (:func:`gram`), or None: then the Gram
            determinant is not carried (backends without a fused ``layer``).
        depth, duals: as :func:`symndk.runtime.recursion.layer_kernels`.
        nodes, weights: quadrature rule on [0, 1] (backend numbers).
        D_0: input Gram determinant k0_tt k0_ss - k0_ts^2 (optional).
        bias: parameter groups' biases (above); only with lists. An entry may carry a fifth value,
            Db_hi = Cb_n Cb_m - cb_hi^2 without cancellation (:func:`gram` of the bias chain): the
            bias Gram determinant is then carried along the segment (else the recursion forms it
            from the covariances, which cancels near the top end; docs/numerics.md §5).
    """
    total = 0
    for u, wq in zip(nodes, weights):
        if isinstance(C_n, list):
            c, D_C, groups = segment(c_hi, width, D_hi, bias, u * u)
            th = layer_kernels(k0_tt, k0_ss, k0_ts, C_n, C_m, c, depth, duals, D_C, D_0, bias=groups)[3]
            total = total + wq * 2 * u * th
            continue
        d = width * u * u
        c = c_hi - d
        D_C = None if D_hi is None else D_hi + d * (2 * c_hi - d)
        total = total + wq * 2 * width * u * tangent(k0_tt, k0_ss, k0_ts, C_n, C_m, c, depth, duals, D_C, D_0)
    return total


def delta_kernel_difference(k0_tt, k0_ss, k0_ts, C_n, C_m, c_hi, width, depth, duals, bias=None):
    """The plain difference G(c_hi) - G(c_hi - width) (for checks at high precision only: it
    cancels catastrophically in float64 when width << c_hi); groups and ``bias`` as :func:`delta_kernel`."""
    G = lambda c, b: output_kernel(k0_tt, k0_ss, k0_ts, C_n, C_m, c, depth, duals, b)  # noqa: E731
    if not isinstance(c_hi, list):
        return G(c_hi, None) - G(c_hi - width, None)
    lo = [c - w for c, w in zip(c_hi, width)]
    b_hi = None if bias is None else [None if b is None else b[:3] for b in bias]
    b_lo = None if bias is None else [None if b is None else (b[0], b[1], b[2] - b[3]) for b in bias]
    return G(c_hi, b_hi) - G(lo, b_lo)


def schedule(lams, kappa, beta, sigma0_sq):
    """Prior statistics of a time-dependent lambda_n (a learning-rate schedule), n = 1..N.

    a_n = lambda_n/(lambda_n + kappa), v_n = 1/(beta (lambda_n + kappa)), C_0 = sigma0^2,
    C_n = a_n^2 C_{n-1} + v_n. Returns (a, v, C) as lists with index 0 for step 0 (a_0 = 1,
    v_0 = 0); C(n, m) = (prod_{k=m+1..n} a_k) C_m and DeltaK(n, m) uses (prod a_k) v_m.

    Example:
        >>> a, v, C = schedule([1.0, 1.0], 0.5, 10.0, 2.0)
        >>> [round(c, 12) for c in C]
        [2.0, 0.955555555556, 0.491358024691]
    """
    a, v, C = [1 + 0 * kappa], [0 * kappa], [sigma0_sq]
    for lam in lams:
        a.append(lam / (lam + kappa))
        v.append(1 / (beta * (lam + kappa)))
        C.append(a[-1] * a[-1] * C[-1] + v[-1])
    return a, v, C
