"""Empirical two-time tangent kernel E[grad f(x; Theta_t) . grad f(x'; Theta_s)] over the prior.

Without the loss, the Langevin dynamics of docs/theory.md §1 is an Ornstein-Uhlenbeck
process for every parameter. :func:`empirical_ntk` samples it *exactly* (Gaussian transitions
theta(t') = e^{-gamma (t'-t)} theta(t) + sigma sqrt(1 - e^{-2 gamma (t'-t)}) xi, starting from
N(0, sigma0^2)), so there is no time-step error, and averages the finite-width tangent kernel
over the ensemble. It is the Monte Carlo counterpart of Theta_L(t, s) (docs/theory.md §3).

The inner product of two parameter gradients is formed layer by layer without materialising
the gradients: dW_l = g_l (x) phi_{l-1} / sqrt(N_{l-1}), so
grad f(x) . grad f(x') = phi_L . phi_L' / N_L + sum_l (g_l . g_l') (phi_{l-1} . phi_{l-1}') / N_{l-1}.

Example (linear activation, L = 1, t = s = 0: Theta = 2 sigma0^2 K_0 exactly in the mean):
    >>> import numpy as np
    >>> X = np.sqrt(2.0) * np.eye(2)
    >>> m, se = empirical_ntk(X, "linear", 1, 64, 0.5, 1.0, 0.1, [(0.0, 0.0)], 400, seed=0)
    >>> m.shape, bool(abs(m[0, 0, 0] - 1.0) < 4 * se[0, 0, 0])
    ((1, 2, 2), True)
"""
from __future__ import annotations

import math

import numpy as np

from symndk.errors import SymndkError
from symndk.langevin.network import Ensemble
from symndk.langevin.stats import Moments, check_inputs


def _tangent_features(net, X):
    """Per-input pieces of grad f: activations [X, phi(h_1), .., phi(h_L)] and signals g_l."""
    pres, acts = net.hidden(X)
    gs = net.backward(pres, np.ones((net.n_networks, X.shape[0])))
    return acts, gs


def _bias_kernel(feat_t, feat_s, props=None):
    """grad_b f(x; t) . grad_b f(x'; s) over every bias (hidden b_l: the signals g_l; output: 1), (B, n, n);
    ``props``: per-group factors (b_1..b_L, output), e.g. the propagators of per-layer rates."""
    (_, gs_t), (_, gs_s) = feat_t, feat_s
    out = np.ones((gs_t[0].shape[0], gs_t[0].shape[1], gs_s[0].shape[1]))
    if props is not None:
        out *= props[-1]
    for i, (g_t, g_s) in enumerate(zip(gs_t, gs_s)):
        term = np.matmul(g_t, g_s.transpose(0, 2, 1))
        out += term if props is None else props[i] * term
    return out


def _tangent_kernel(net, feat_t, feat_s, props=None):
    """grad f(x; t) . grad f(x'; s) for every network, shape (B, n, n); ``props``: per-group factors
    (W_1..W_L, readout), e.g. the propagators e^{-gamma_l |t - s|} of per-layer rates."""
    (acts_t, gs_t), (acts_s, gs_s) = feat_t, feat_s
    out = np.matmul(acts_t[-1], acts_s[-1].transpose(0, 2, 1)) * net.readout_scale**2
    if props is not None:
        out *= props[-1]
    for i, (g_t, g_s) in enumerate(zip(gs_t, gs_s)):
        if i == 0:
            prev = acts_t[0] @ acts_s[0].T
        else:
            prev = np.matmul(acts_t[i], acts_s[i].transpose(0, 2, 1))
        term = np.matmul(g_t, g_s.transpose(0, 2, 1)) * prev * net.scale[i] ** 2
        out += term if props is None else props[i] * term
    return out


def _ou_advance(net, rng, lag, gamma, sigma_sq, bias=None):
    """Exact OU transition of every parameter over ``lag`` (biases with their own (gamma_b, sigma_b^2));
    per-layer: ``gamma``, ``sigma_sq`` lists over W_1..W_L, readout and ``bias`` a list of
    (gamma_b, sigma_b^2) pairs over b_1..b_L, output (None: no bias in that group)."""
    if lag == 0:
        return
    if isinstance(gamma, list):
        groups = [((arr,), g, var) for arr, g, var in zip((*net.V, net.a), gamma, sigma_sq)]
        if bias is not None:
            groups += [((arr,), *gb) for arr, gb in zip((*net.b, net.c), bias) if gb is not None]
    else:
        groups = [((*net.V, net.a), gamma, sigma_sq)]
        if bias is not None:
            groups.append(((*net.b, net.c), bias[0], bias[1]))
    for arrs, g, var in groups:
        decay = math.exp(-g * lag)
        sd = math.sqrt(var * -math.expm1(-2.0 * g * lag))
        for arr in arrs:
            arr *= decay
            arr += sd * rng.standard_normal(arr.shape)


def empirical_ntk(X, activation, depth, width, sigma0_sq, sigma_sq, T, pairs, n_networks, seed=0, batch_size=256,
                  bias=None):
    """Monte Carlo mean and standard error of the two-time tangent kernel over the prior.

    Args:
        X: (n, N0) inputs.  activation, depth, width: the network (all hidden widths equal).
        sigma0_sq, sigma_sq, T: initial variance, prior variance, temperature.
        pairs: (t, s) time pairs.
        n_networks: number of independent networks.  seed: integer seed.
        batch_size: networks per batch.
        bias: None, or (sigma_b0_sq, sigma_b_sq): biases on every layer and the output. The mean
            is then the NDK itself, K^d(t, s) = e^{-gamma |t-s|} E[grad_W f . grad_W f'] +
            e^{-gamma_b |t-s|} E[grad_b f . grad_b f'] (each group with its own propagator).

        Per-layer variances: ``sigma0_sq``, ``sigma_sq`` (and the entries of ``bias``) lists of depth + 1
        (W_1..W_L, readout); the mean is then the NDK sum_l e^{-gamma_l |t-s|} E[grad_l f . grad_l f'].

    Returns:
        ``(mean, se)``, each of shape (len(pairs), n, n): entry [k, i, j] estimates
        E[grad f(x_i; Theta_t) . grad f(x_j; Theta_s)] at pair k.
    """
    from symndk.kernels import loader as duals

    X, _, _ = check_inputs(X, np.zeros(np.shape(X)[0] if np.ndim(X) == 2 else 0), None)
    pair_arr = np.asarray(pairs, dtype=float).reshape(-1, 2)
    if pair_arr.size == 0 or not np.all(np.isfinite(pair_arr)) or np.any(pair_arr < 0):
        raise SymndkError(f"pairs must be (t, s) pairs of finite times >= 0, got {pairs!r}")
    layered = any(isinstance(v, (list, tuple)) for v in (sigma0_sq, sigma_sq, *(() if bias is None else bias)))
    if layered:
        from symndk.langevin.simulator import _layered

        sigma0_sq, sigma_sq, bias, gamma, gamma_b = _layered(depth, sigma0_sq, sigma_sq, bias, T, 0.0)
        gb = None if bias is None else [None if g is None else (g, v) for g, v in zip(gamma_b, bias[1])]
    elif sigma_sq <= 0 or sigma0_sq < 0 or T < 0:
        raise SymndkError("need sigma_sq > 0, sigma0_sq >= 0 and T >= 0")
    else:
        gamma = T / sigma_sq
        gb = None if bias is None else (T / bias[1], bias[1])
    kern = duals.load(activation)
    grid = np.unique(pair_arr)
    stats = Moments()
    seeds = np.random.SeedSequence(seed).spawn(-(-n_networks // batch_size))
    for b, ss in enumerate(seeds):
        B = min(batch_size, n_networks - b * batch_size)
        rng = np.random.Generator(np.random.SFC64(ss))
        net = Ensemble.sample(rng, X.shape[1], [int(width)] * int(depth), B, sigma0_sq, kern.phi, kern.dphi,
                              bias_var=None if bias is None else bias[0])
        feats, t_prev = {}, 0.0
        for t in grid:
            _ou_advance(net, rng, t - t_prev, gamma, sigma_sq, gb)
            feats[t], t_prev = _tangent_features(net, X), t
        if layered:
            props = lambda rates, t, s: [0.0 if g is None else math.exp(-g * abs(t - s)) for g in rates]  # noqa: E731
            stats.add(np.stack([_tangent_kernel(net, feats[t], feats[s], props(gamma, t, s))
                                + (0.0 if bias is None else _bias_kernel(feats[t], feats[s], props(gamma_b, t, s)))
                                for t, s in pair_arr], axis=1))
        elif bias is None:
            stats.add(np.stack([_tangent_kernel(net, feats[t], feats[s]) for t, s in pair_arr], axis=1))
        else:
            stats.add(np.stack([math.exp(-gamma * abs(t - s)) * _tangent_kernel(net, feats[t], feats[s])
                                + math.exp(-gb[0] * abs(t - s)) * _bias_kernel(feats[t], feats[s])
                                for t, s in pair_arr], axis=1))
    return stats.result()
