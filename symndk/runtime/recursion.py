"""The prior statistics and the two-time layer recursion, written once for every backend
(docs/theory.md §2-4).

Only arithmetic, ``abs``, ``== 0`` (with the array namespace's ``where``: :func:`gram_sum`), the backend's
``exp``/``expm1`` and calls to a dual-kernel object
(``F``, ``Fdot``, ``V``, and optionally the fused ``layer``/``kernels`` and ``Vdot``) appear here,
so the same functions run on SymPy expressions (the spec and its identities), on mpmath and
gmpy2/MPFR scalars (the certified reference) and elementwise on float64 arrays (the fast solvers
and the static kernels). The ``runtime.*`` identities of ``symndk verify`` evaluate this code on
every backend's generated kernels against the SymPy spec at 50 digits.

* :func:`prior_C` -- C(t, s) = sigma^2 e^{-gamma (t-s)} + (sigma0^2 - sigma^2) e^{-gamma (t+s)}, t >= s;
  under a T(t) / eta(t) schedule the same function at gamma = 1 and clock times G(t) = int eta gamma.
* :func:`prior_gram` -- C(t,t) C(s,s) - C(t,s)^2 without cancellation.
* :func:`gram_sum` -- det(A + B) of two 2 x 2 covariances from their determinants, without cancellation
  (the carried Gram determinant with biases).
* :func:`step` / :func:`layers` -- one layer / all layers of K_l, Kdot_l, Theta_l.
* :func:`layer_kernels` -- (K_L, Kdot_L, Theta_{L-1}, Theta_L) after ``depth`` layers.
* :func:`ndk` -- K^d(t, s) = e^{-gamma (t-s)} Theta_L(t, s).
* :func:`layer_priors` -- per-layer variances: one prior and one propagator per parameter group (lists
  that :func:`layers` takes in place of the scalars).
* :class:`Bias` -- bias terms (THEORY_NEXT §B): the bias prior C_b(t, s) (the same :func:`prior_C` at
  sigma_b0^2, sigma_b^2, gamma_b) and the two propagators; with it every pre-activation covariance
  is q = C K + C_b and Theta_l = e^{-gamma (t-s)} K_l + e^{-gamma_b (t-s)} + C(t,s) Kdot_l Theta_{l-1}
  (propagators inside: K^d = Theta_L), and the bias prior's Gram determinant, so that the Gram
  determinant of q stays carried (:func:`gram_sum`).

Example (ReLU, L = 1; at t = s = 0 the two-time NTK is the static NTK):
    >>> import numpy as np
    >>> class ReLU:  # docs/theory.md §9 closed forms (the generated module has the same names)
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

from typing import NamedTuple


def prior_C(t, s, sigma0_sq, sigma_sq, gamma, exp, lag=None, expm1=None):
    """Prior parameter correlation C(t, s) (docs/theory.md §2, §E), t >= s:

    C(t, s) = sigma^2 e^{-gamma (t-s)} + (sigma0^2 - sigma^2) e^{-gamma (t+s)}
            = e^{-gamma (t-s)} [sigma0^2 e^{-2 gamma s} + sigma^2 (1 - e^{-2 gamma s})],

    evaluated in the second form: both terms are >= 0, so nothing cancels when sigma0^2 << sigma^2
    at early times (the first form loses all digits of C(0, 0) = sigma0^2 = 1e-16 sigma^2).

    **Schedules** (docs/theory.md §E). Time enters only through the decay clock gamma t. Under a
    temperature T(t) (weight decay gamma(t) = T(t)/sigma^2) and a learning rate eta(t) the prior is
    the OU process d theta = -eta gamma theta dt + sqrt(2 eta T) dB; since eta T = sigma^2 eta gamma,
    d/dt C(t,t) = -2 eta gamma (C(t,t) - sigma^2) and C(t,s) = e^{-(G(t) - G(s))} C(s,s) with
    G(t) = int_0^t eta gamma, which is this function with gamma = 1 at the clock times
    (t, s, lag) = (G(t), G(s), G(t) - G(s)); so is every kernel of the recursion and the propagator
    of :func:`ndk`. A constant schedule is G(t) = gamma t.

    Args:
        t, s: times (scalars, symbols or broadcasting arrays), t >= s >= 0 (clock values G(t), G(s)
            with gamma = 1 under a schedule).
        sigma0_sq: initial weight variance sigma0^2.
        sigma_sq: prior variance sigma^2.
        gamma: T / sigma^2 (1 under a schedule).
        exp: the backend's exponential (``numpy.exp``, ``mpmath.exp``, ``gmpy2.exp``, ``sympy.exp``).
        lag: optional t - s, when known more accurately than the difference of t and s.
        expm1: the backend's exp(x) - 1 (accurate near 0); None: ``exp(x) - 1``.

    Example:
        >>> import math
        >>> round(prior_C(3.0, 1.0, 2.0, 1.0, 0.5, math.exp), 12)  # e^-1 + e^-2
        0.503214724408
        >>> prior_C(0.0, 0.0, 1e-16, 1.0, 0.1, math.exp, expm1=math.expm1)
        1e-16

    Annealing gamma(t) = 2t (T = 2 sigma^2 t, G = t^2): d/dt C(t,t) = -2 gamma C + 2 T by differences:
        >>> v = lambda t: prior_C(t * t, t * t, 0.5, 2.0, 1.0, math.exp)
        >>> h, t = 1e-5, 0.7
        >>> abs((v(t + h) - v(t - h)) / (2 * h) - (-2 * (2 * t) * v(t) + 2 * (2 * 2.0 * t))) < 1e-8
        True
    """
    lag = t - s if lag is None else lag
    decay = exp(-2 * gamma * s)
    grow = -expm1(-2 * gamma * s) if expm1 is not None else 1 - decay
    return exp(-gamma * lag) * (sigma0_sq * decay + sigma_sq * grow)


def prior_gram(t, s, sigma0_sq, sigma_sq, gamma, exp, expm1, lag=None):
    """C(t,t) C(s,s) - C(t,s)^2 without cancellation (docs/numerics.md section 5), t >= s.

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
    return -e * (e + 2) * sigma_sq * prior_C(s, s, sigma0_sq, sigma_sq, gamma, exp, expm1=expm1)


class Bias(NamedTuple):
    """Bias terms of the recursion (THEORY_NEXT §B, docs/theory.md §B): biases on every hidden
    layer and on the output, prior C_b(t, s), each parameter group with its own propagator.

    With a ``Bias`` the recursion's Theta carries the propagators, Theta_0 = prop_w K_0 + prop_b and
    Theta_l = prop_w K_l + prop_b + C(t,s) Kdot_l Theta_{l-1}, so K^d(t, s) = Theta_L (no further
    factor); with gamma_b = gamma this is the bias-free NDK with K_l -> K_l + 1.
    """

    C_tt: object       # C_b(t, t)
    C_ss: object       # C_b(s, s)
    C_ts: object       # C_b(t, s)
    prop_w: object     # e^{-gamma (t - s)}
    prop_b: object     # e^{-gamma_b (t - s)}
    D: object = None   # C_b(t,t) C_b(s,s) - C_b(t,s)^2 without cancellation (:func:`prior_gram`); None: from the fields


def bias_terms(t, s, sigma_b0_sq, sigma_b_sq, gamma_b, gamma, exp, lag=None, expm1=None) -> Bias:
    """:class:`Bias` at (t, s), t >= s, from :func:`prior_C` with the bias variances.

    Example:
        >>> import math
        >>> b = bias_terms(1.0, 0.0, 0.5, 2.0, 0.1, 0.2, math.exp)
        >>> round(b.C_ts, 12) == round(0.5 * math.exp(-0.1), 12), round(b.prop_w, 12) == round(math.exp(-0.2), 12)
        (True, True)
    """
    lag = t - s if lag is None else lag
    C = lambda a, b, d=None: prior_C(a, b, sigma_b0_sq, sigma_b_sq, gamma_b, exp, d, expm1)  # noqa: E731
    D = prior_gram(t, s, sigma_b0_sq, sigma_b_sq, gamma_b, exp, (lambda x: exp(x) - 1) if expm1 is None else expm1, lag)
    return Bias(C(t, t, 0 * lag), C(s, s, 0 * lag), C(t, s, lag), exp(-gamma * lag), exp(-gamma_b * lag), D)


def layer_priors(t, s, sigma0_sq, sigma_sq, T, exp, expm1, lag=None, bias=None):
    """Per-layer prior statistics (docs/theory.md §B, per-layer variances), t >= s: one OU process per
    parameter group l = 1..L+1 (W_1, .., W_L, then the readout a), with its own rate gamma_l = T / sigma_l^2.

    Args:
        sigma0_sq, sigma_sq: sequences of L + 1 initial and prior variances (group l at index l - 1).
        T: temperature (shared by every group).
        bias: None, or (sigma_b0_sq, sigma_b_sq), two sequences of L + 1 bias variances (b_1, .., b_L,
            then the output bias); an entry sigma_b^2 = 0 means no bias in that group.

    Returns:
        ``(C_tt, C_ss, C_ts, D_C, groups)``, lists of L + 1: the weight covariances C_l, their Gram
        determinants :func:`prior_gram`, and per group a :class:`Bias` carrying its propagators
        e^{-gamma_l (t-s)} (and e^{-gamma_bl (t-s)}); its C_b fields are None without a bias there.
        :func:`layers` takes these lists in place of the scalars.

    Example (two groups of equal variances are the scalar prior):
        >>> import math
        >>> C_tt, C_ss, C_ts, D_C, g = layer_priors(2.0, 1.0, [0.5, 0.5], [1.0, 1.0], 0.1, math.exp, math.expm1)
        >>> C_ts[0] == C_ts[1] == prior_C(2.0, 1.0, 0.5, 1.0, 0.1, math.exp, expm1=math.expm1), g[1].C_ts
        (True, None)
    """
    lag = t - s if lag is None else lag
    out = [], [], [], [], []
    for l, (s0, s2) in enumerate(zip(sigma0_sq, sigma_sq)):
        g = T / s2
        C = lambda a, b, d=None: prior_C(a, b, s0, s2, g, exp, d, expm1)  # noqa: E731
        if bias is None or bias[1][l] == 0:
            group = Bias(None, None, None, exp(-g * lag), None)
        else:
            group = bias_terms(t, s, bias[0][l], bias[1][l], T / bias[1][l], g, exp, lag, expm1)
        for lst, v in zip(out, (C(t, t), C(s, s), C(t, s, lag), prior_gram(t, s, s0, s2, g, exp, expm1, lag), group)):
            lst.append(v)
    return out


def gram_sum(a11, a22, a12, D_A, b11, b22, b12, D_B):
    """det(A + B) of two 2 x 2 covariances A = [[a11, a12], [a12, a22]], B likewise, from their entries
    and their determinants D_A, D_B (>= 0, each carried without cancellation), without cancellation
    (docs/numerics.md §5): with u = a11 b22, v = a22 b11, m = a12 b12,

        det(A + B) = D_A + D_B + X,   X = a11 b22 + a22 b11 - 2 a12 b12 = u + v - 2 m,
        X = [(u - v)^2 + 4 (a11 a22 D_B + b12^2 D_A)] / (u + v + 2 |m|) + 2 (|m| - m),

    since (u + v)^2 - 4 m^2 = (u - v)^2 + 4 (u v - m^2) and u v - m^2 = a11 a22 D_B + b12^2 D_A. For m >= 0
    (where u + v - 2 m cancels) the last term is 0; for m < 0 nothing cancels. Where the denominator is 0
    (u = v = m = 0) so is the numerator, and X = 0. Only arithmetic, ``abs`` and ``== 0``: elementwise on
    NumPy and array-API arrays, on floats, mpmath and gmpy2 scalars and on SymPy expressions. The identity
    ``runtime.bias_gram.symbolic`` of ``symndk verify`` proves it; :func:`step` runs it for q = A + B, the
    weight part plus the bias prior.

    Example (rho = 1 - 1e-15 in A, B = 0.5 everywhere: q1 q2 - c^2 in float64 keeps no digit):
        >>> import mpmath as mp
        >>> a, rho = 1.0, 1 - 1e-15
        >>> got = gram_sum(a, a, a * rho, a * a * (1 - rho) * (1 + rho), 0.5, 0.5, 0.5, 0.0)
        >>> with mp.workdps(40):
        ...     A = [mp.mpf(a), mp.mpf(a * rho)]
        ...     exact = (A[0] + mp.mpf(0.5)) ** 2 - (A[1] + mp.mpf(0.5)) ** 2
        >>> bool(abs(got - exact) < 1e-15 * exact), abs((a + 0.5) ** 2 - (a * rho + 0.5) ** 2 - exact) > 0.01 * exact
        (True, True)
        >>> gram_sum(0.0, 2.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0)   # u = v = m = 0
        0.0
    """
    u, v, m = a11 * b22, a22 * b11, a12 * b12
    am, d = abs(m), u - v
    N4 = 4 * b12 * b12 * D_A if _is_zero(D_B) else 4 * b12 * b12 * D_A + 4 * D_B * a11 * a22  # scalars first
    X = (d * d + N4) / _one_where_zero(u + v + 2 * am) + 2 * (am - m)
    return D_A + X if _is_zero(D_B) else D_A + D_B + X


def _one_where_zero(x):
    """x, with 1 where x == 0 (elementwise; a denominator whose numerator vanishes there): a plain
    comparison for scalars and SymPy (structural), ``where`` of the array's namespace, else x + (x == 0).

    >>> import numpy as np
    >>> _one_where_zero(np.array([0.0, 2.0])), _one_where_zero(0.0), _one_where_zero(3.0)
    (array([1., 2.]), 1, 3.0)
    """
    z = x == 0
    if isinstance(z, bool):
        return 1 if z else x
    ns = getattr(x, "__array_namespace__", None)
    return ns().where(z, 1.0, x) if ns is not None else x + z


def _is_zero(v) -> bool:
    """True for a plain number equal to 0 (the static kernels' D_C): its term is skipped, not multiplied out."""
    return isinstance(v, (int, float)) and v == 0


def _times(v, x):
    """v x, skipping the product for a plain number v equal to 1 (the static kernels at sigma^2 = 1: x is
    then returned exactly, as IEEE 1 * x is; a whole pass over the block saved)."""
    return x if isinstance(v, (int, float)) and v == 1 else v * x


class Layer(NamedTuple):
    """Kernels of layer l for the pair (x at time t, x' at time s)."""

    K_tt: object       # K_l(t, t; x, x)
    K_ss: object       # K_l(s, s; x', x')
    K_ts: object       # K_l(t, s; x, x')
    Kdot_ts: object    # Kdot_l(t, s; x, x')  (None for l = 0)
    Theta_ts: object   # Theta_l(t, s; x, x');  Theta_0 = K_0
    D: object = None   # K_tt K_ss - K_ts^2, carried without cancellation (None: not carried)


def step(p: Layer, C_tt, C_ss, C_ts, duals, D_C=None, same=None, last=False, K_tt=None, K_ss=None,
         bias: Bias | None = None, C_next=None, bias_next: Bias | None = None) -> Layer:
    """Layer l from layer l - 1 (docs/theory.md §3):

    q1 = C(t,t) K_{l-1}(x,x), q2 = C(s,s) K_{l-1}(x',x'), c = C(t,s) K_{l-1}(x,x'),
    K_l = F(q1, q2, c), Kdot_l = Fdot(q1, q2, c), Theta_l = K_l + C(t,s) Kdot_l Theta_{l-1}.

    With ``bias`` (:class:`Bias`): q1 += C_b(t,t), q2 += C_b(s,s), c += C_b(t,s) and
    Theta_l = prop_w K_l + prop_b + C(t,s) Kdot_l Theta_{l-1}; the carried Gram determinant is then
    :func:`gram_sum` of the weight part and the bias prior, whose determinant is ``bias.D`` (None:
    C_b(t,t) C_b(s,s) - C_b(t,s)^2, exact when the three are one number, as at t = s in the static kernels).

    Args:
        p: layer l - 1.
        C_tt, C_ss, C_ts: prior statistics.
        duals: dual kernels (``F``, ``Fdot``, ``V``; fused ``layer``/``kernels`` used when present).
        D_C: C_tt C_ss - C_ts^2 without cancellation (:func:`prior_gram`); with ``p.D`` it lets the
            fused ``layer`` map carry the Gram determinant q1 q2 - c^2 = D_C K_tt K_ss + C_ts^2 D_{l-1},
            so the kernels keep their digits as rho -> 1.
        same: 1 (or a 0/1 array) where x = x' and t = s: there K_l = V(q1) and Kdot_l = Vdot(q1)
            exactly (the diagonal is pinned, so rounding does not compound with depth).
        last: the last layer (no Gram determinant needed).
        K_tt, K_ss: the same-input variances V(q1), V(q2) if already known (per-time chains).
        bias: this layer's bias terms; its C_b fields None: no bias here (only the propagators).
        C_next, bias_next: per-layer variances (:func:`layer_priors`): the covariance C_{l+1}(t,s) and
            the propagators of the outgoing weights of layer l, which enter Theta_l (default: this
            layer's, the scalar case).
    """
    C_next = C_ts if C_next is None else C_next
    bias_next = bias if bias_next is None else bias_next
    q1, q2, c = C_tt * p.K_tt, C_ss * p.K_ss, _times(C_ts, p.K_ts)
    D, carry = None, D_C is not None and p.D is not None and hasattr(duals, "layer")
    if carry:
        gram = _times(C_ts * C_ts, p.D) if _is_zero(D_C) else D_C * p.K_tt * p.K_ss + C_ts * C_ts * p.D
    if bias is not None and bias.C_ts is not None:
        if carry:   # det(A + B), A the weight part (determinant ``gram``), B the bias prior
            D_B = bias.C_tt * bias.C_ss - bias.C_ts * bias.C_ts if bias.D is None else bias.D
            gram = gram_sum(q1, q2, c, gram, bias.C_tt, bias.C_ss, bias.C_ts, D_B)
        q1, q2, c = q1 + bias.C_tt, q2 + bias.C_ss, c + bias.C_ts
    if carry:
        if last and hasattr(duals, "kernels"):
            K, Kdot = duals.kernels(q1, q2, c, gram)
        else:
            K, Kdot, D = duals.layer(q1, q2, c, gram)
    else:
        K, Kdot = duals.F(q1, q2, c), duals.Fdot(q1, q2, c)
    K_tt = duals.V(q1) if K_tt is None else K_tt
    K_ss = duals.V(q2) if K_ss is None else K_ss
    if isinstance(same, (int, float)) and same == 1:    # every entry pinned: the chain itself (an inf stays inf)
        K, Kdot, D = K_tt, duals.Vdot(q1), None if D is None else 0 * D
    elif same is not None:
        K = K + same * (K_tt - K)
        Kdot = Kdot + same * (duals.Vdot(q1) - Kdot)
        D = None if D is None else D - same * D
    if bias_next is not None:
        head = bias_next.prop_w * K if bias_next.prop_b is None else bias_next.prop_w * K + bias_next.prop_b
        return Layer(K_tt, K_ss, K, Kdot, head + C_next * Kdot * p.Theta_ts, D)
    return Layer(K_tt, K_ss, K, Kdot, K + _times(C_next, Kdot) * p.Theta_ts, D)


def layers(k0_tt, k0_ss, k0_ts, C_tt, C_ss, C_ts, depth, duals, D_C=None, D_0=None, same=None, chains=None,
           bias: Bias | None = None):
    """Yield layers 0..depth of the two-time recursion for input kernels K_0 = x.x'/N0.

    ``bias`` (:class:`Bias`) adds the bias terms (Theta_0 = prop_w K_0 + prop_b; see :func:`step`).

    **Per-layer variances**: ``C_tt``, ``C_ss``, ``C_ts``, ``D_C`` and ``bias`` may be lists (``list``) of L + 1
    values, one per parameter group (W_1, .., W_L, readout; :func:`layer_priors`). Layer l then uses
    group l in its pre-activation covariance, q = C_l K_{l-1} + C_bl, and group l + 1 (the weights
    leaving it) in Theta_l = prop_{l+1} K_l + prop_b,l+1 + C_{l+1} Kdot_l Theta_{l-1}; without
    ``bias`` the propagators are 1 (t = s: the static NTK).

    ``chains`` optionally gives the same-input variances (K_l(t,t; x,x), K_l(s,s; x',x')) for
    l = 1..depth as two sequences, when the caller has them cached per time. ``D_0`` is the input
    Gram determinant k0_tt k0_ss - k0_ts^2 (computed here when ``D_C`` is given without it).
    """
    if int(depth) != depth or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    if D_C is not None and D_0 is None:
        D_0 = k0_tt * k0_ss - k0_ts * k0_ts
    at = lambda v, l: v[l - 1] if isinstance(v, list) else v  # noqa: E731  (group l of per-layer lists; Bias is a tuple)
    first = at(bias, 1)
    if first is None:
        theta0 = k0_ts
    else:
        theta0 = first.prop_w * k0_ts if first.prop_b is None else first.prop_w * k0_ts + first.prop_b
    p = Layer(k0_tt, k0_ss, k0_ts, None, theta0, D_0)
    yield p
    for l in range(1, int(depth) + 1):
        tt, ss = (None, None) if chains is None else (chains[0][l - 1], chains[1][l - 1])
        p = step(p, at(C_tt, l), at(C_ss, l), at(C_ts, l), duals, at(D_C, l), same, l == depth, tt, ss,
                 at(bias, l), at(C_ts, l + 1), at(bias, l + 1))
        yield p


def layer_kernels(k0_tt, k0_ss, k0_ts, C_tt, C_ss, C_ts, depth, duals, D_C=None, D_0=None, same=None,
                  chains=None, bias: Bias | None = None):
    """(K_L, Kdot_L, Theta_{L-1}, Theta_L) at (t, s; x, x'), elementwise; arguments as :func:`layers`.

    With ``bias`` the Thetas carry the propagators (K^d = Theta_L) and the output kernel of the
    prior is G = C(t,s) K_L + C_b(t,s).

    Example (linear activation at t = s: K_l = C^l K_0 and Theta_l = (l + 1) C^l K_0):
        >>> class Linear:
        ...     F = staticmethod(lambda q1, q2, c: c)
        ...     Fdot = staticmethod(lambda q1, q2, c: 1.0)
        ...     V = staticmethod(lambda q: q)
        >>> layer_kernels(2.0, 2.0, 2.0, 0.5, 0.5, 0.5, 3, Linear)
        (0.25, 1.0, 1.5, 1.0)
    """
    prev = last = None
    for lay in layers(k0_tt, k0_ss, k0_ts, C_tt, C_ss, C_ts, depth, duals, D_C, D_0, same, chains, bias):
        prev, last = last, lay
    return last.K_ts, last.Kdot_ts, prev.Theta_ts, last.Theta_ts


def ndk(theta, t, s, gamma, exp, lag=None):
    """K^d(t, s) = exp(-gamma (t - s)) Theta_L(t, s), t >= s (docs/theory.md §4).

    Example:
        >>> import math
        >>> ndk(2.0, 1.0, 1.0, 0.3, math.exp)
        2.0
    """
    return exp(-gamma * (t - s if lag is None else lag)) * theta


def two_time_ndk(k0_tt, k0_ss, k0_ts, t, s, sigma0_sq, sigma_sq, gamma, depth, duals, exp):
    """The NDK from the inputs and the prior: :func:`prior_C`, :func:`layer_kernels`, :func:`ndk`.

    Inputs broadcast elementwise (e.g. ``k0_ts`` a P x P Gram block, ``k0_tt`` a column of
    squared norms, ``k0_ss`` a row). t >= s.

    Example (linear activation, L = 1: K^d = e^{-gamma(t-s)} (C(t,s) K_0 + C(t,s) K_0)):
        >>> import math
        >>> class Linear:
        ...     F = staticmethod(lambda q1, q2, c: c)
        ...     Fdot = staticmethod(lambda q1, q2, c: 1.0)
        ...     V = staticmethod(lambda q: q)
        >>> round(two_time_ndk(1.0, 1.0, 1.0, 0.0, 0.0, 0.5, 1.0, 0.1, 1, Linear, math.exp), 12)
        1.0
    """
    C = [prior_C(a, b, sigma0_sq, sigma_sq, gamma, exp) for a, b in ((t, t), (s, s), (t, s))]
    return ndk(layer_kernels(k0_tt, k0_ss, k0_ts, *C, depth, duals)[3], t, s, gamma, exp)
