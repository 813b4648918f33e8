"""An ensemble of fully connected networks (docs/theory.md §1), vectorised over networks.

Parameterisation exactly as in docs/theory.md: every parameter is an O(1) scalar, no per-layer
multipliers, and ``1/sqrt(fan-in)`` in the forward pass::

    h_1 = W_1 x / sqrt(N0),  h_l = W_l phi(h_{l-1}) / sqrt(N_{l-1}),  f = a . phi(h_L) / sqrt(N_L)

Hidden weights are stored transposed, ``V[i] = W_{i+1}^T`` with shape ``(B, N_i, N_{i+1})``,
so that a forward pass is one batched matrix product per layer; the readout ``a`` has shape
``(B, N_L)``. Backpropagation is written by hand (:meth:`Ensemble.backward`). One
Euler-Maruyama step of dTheta = -grad E dt + sqrt(2 T dt) xi with
E = 1/2 sum (f - y)^2 + T/(2 sigma^2) |Theta|^2 is :meth:`Ensemble.step`.

*Antithetic* ensembles hold pairs: network ``k + B/2`` starts as ``(-a, W)`` of network ``k``
and receives the same hidden-weight noise and the negated readout noise (docs/theory.md §13).

Example (two linear networks; f is exactly linear in the readout):
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> lin = (lambda x: x, lambda x: np.ones_like(x))
    >>> net = Ensemble.sample(rng, 3, (5, 4), 2, 1.0, *lin, antithetic=True)
    >>> _, acts, f = net.forward(np.eye(3))
    >>> bool(np.allclose(f[0], -f[1]))
    True
"""
from __future__ import annotations

import math

import numpy as np


class Ensemble:
    """Parameters of ``B`` networks plus the batched forward, backward and Langevin step.

    Args:
        V: list of hidden weight arrays ``V[i]`` of shape ``(B, N_i, N_{i+1})`` (transposed W).
        a: readout weights, shape ``(B, N_L)``.
        phi, dphi: elementwise activation and its derivative.
        antithetic: whether networks ``k`` and ``k + B/2`` form antithetic pairs.
    """

    def __init__(self, V, a, phi, dphi, antithetic=False, b=None, c=None):
        self.V, self.a, self.phi, self.dphi = list(V), a, phi, dphi
        self.b, self.c = (None if b is None else list(b)), c    # hidden biases (B, N_l), output bias (B[, K])
        self.antithetic = bool(antithetic)
        self.scale = [1.0 / math.sqrt(v.shape[1]) for v in self.V]
        self.readout_scale = 1.0 / math.sqrt(a.shape[1])
        self._buffers = {}

    @classmethod
    def sample(cls, rng, n_in, widths, n_networks, var, phi, dphi, antithetic=False, n_out=None, bias_var=None):
        """Draw every parameter i.i.d. N(0, var); antithetic pairs share W and negate a.

        ``n_out`` = K gives K readouts on the shared hidden layers: ``a`` of shape (B, N_L, K) and
        f of shape (B, n, K) (None: one readout, ``a`` (B, N_L), f (B, n)). ``bias_var``: biases
        h_l = W_l phi(h_{l-1}) / sqrt(N_{l-1}) + b_l and f = a . phi(h_L) / sqrt(N_L) + c, drawn
        N(0, bias_var) after the weights (antithetic pairs share b and negate c).

        Per-layer variances: ``var`` (and ``bias_var``) a list of L + 1 values, W_1..W_L then the
        readout (b_1..b_L then the output bias), group l drawn N(0, var[l-1])."""
        dims = (int(n_in), *map(int, widths))
        sds = [math.sqrt(v) for v in (var if isinstance(var, list) else [var] * len(dims))]
        m = n_networks // 2 if antithetic else n_networks
        V = [sds[i] * rng.standard_normal((m, dims[i], dims[i + 1])) for i in range(len(dims) - 1)]
        a = sds[-1] * rng.standard_normal((m, dims[-1]) + (() if n_out is None else (int(n_out),)))
        b = c = None
        if bias_var is not None:
            sb = [math.sqrt(v) for v in (bias_var if isinstance(bias_var, list) else [bias_var] * len(dims))]
            b = [sb[i] * rng.standard_normal((m, w)) for i, w in enumerate(dims[1:])]
            c = sb[-1] * rng.standard_normal((m,) + a.shape[2:])
        if antithetic:
            V = [np.concatenate([v, v]) for v in V]
            a = np.concatenate([a, -a])
            if b is not None:
                b, c = [np.concatenate([v, v]) for v in b], np.concatenate([c, -c])
        return cls(V, a, phi, dphi, antithetic, b, c)

    @property
    def n_networks(self) -> int:
        return self.a.shape[0]

    def hidden(self, X):
        """Preactivations ``h_l`` and activations ``[X, phi(h_1), .., phi(h_L)]`` on inputs ``X`` (n, N0)."""
        acts, pres = [X], []
        for i, (V, c) in enumerate(zip(self.V, self.scale)):
            h = np.matmul(acts[-1], V)
            h *= c
            if self.b is not None:
                h += self.b[i][:, None, :]
            pres.append(h)
            acts.append(self.phi(h))
        return pres, acts

    def readout(self, act_L, a=None, c=None):
        """f = a . phi(h_L) / sqrt(N_L) + c for activations (B, n, N_L); shape (B, n). ``a``, ``c``: a readout
        group recorded earlier (default: the current one)."""
        a, c = (self.a, self.c) if a is None else (a, c)
        if a.ndim == 3:                                            # K readouts: (B, n, K)
            f = np.matmul(act_L, a) * self.readout_scale
        else:
            f = np.matmul(act_L, a[:, :, None])[:, :, 0] * self.readout_scale
        if c is not None:
            f += c[:, None]
        return f

    def forward(self, X):
        """``(pres, acts, f)`` for inputs ``X`` of shape (n, N0); f has shape (B, n)."""
        pres, acts = self.hidden(X)
        return pres, acts, self.readout(acts[-1])

    def backward(self, pres, signal):
        """Per-input backpropagated signals ``g[i] = d(sum_mu signal_mu f_mu) / d h_{i+1}(mu)``.

        ``signal`` has shape (B, n) ((B, n, K) with K readouts); each ``g[i]`` has shape (B, n, N_{i+1}).
        """
        if self.a.ndim == 3:
            g = np.matmul(signal, (self.readout_scale * self.a).transpose(0, 2, 1)) * self.dphi(pres[-1])
        else:
            g = (signal[:, :, None] * (self.readout_scale * self.a)[:, None, :]) * self.dphi(pres[-1])
        gs = [g]
        for i in range(len(self.V) - 1, 0, -1):
            g = np.matmul(g, self.V[i].transpose(0, 2, 1))
            g *= self.scale[i]
            g *= self.dphi(pres[i - 1])
            gs.append(g)
        return gs[::-1]

    def _buffer(self, key, shape):
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape:
            buf = self._buffers[key] = np.empty(shape)
        return buf

    def _add_noise(self, key, arr, rng, sd, flip):
        if self.antithetic:
            m = arr.shape[0] // 2
            z = rng.standard_normal(out=self._buffer(("z", key), arr[:m].shape))
            z *= sd
            arr[:m] += z
            if flip:
                arr[m:] -= z
            else:
                arr[m:] += z
        else:
            z = rng.standard_normal(out=self._buffer(("z", key), arr.shape))
            z *= sd
            arr += z

    def step(self, rng, dt, gamma, T, pres=None, acts=None, residual=None, move_readout=True, gamma_b=None):
        """One Euler-Maruyama step, in place.

        Args:
            rng: numpy Generator for the noise.
            dt, gamma, T: step, gamma = T / sigma^2, temperature; per-layer variances: ``gamma`` a list
                of L + 1 rates T / sigma_l^2 (W_1..W_L, readout).
            pres, acts, residual: forward pass on the training inputs and ``f - y`` (B, P); with
                ``residual=None`` the step is prior-only (Ornstein-Uhlenbeck, no loss gradient).
            move_readout: if False the readout stays fixed (no gradient, decay or noise).
            gamma_b: T / sigma_b^2 of the biases (default ``gamma``); per layer a list of L + 1 (b_1..b_L,
                output bias), None entries for groups without a bias (they stay 0).
        """
        rates = gamma if isinstance(gamma, list) else [gamma] * (len(self.V) + 1)
        sd, decay = math.sqrt(2.0 * T * dt), 1.0 - rates[-1] * dt
        grads_V, grad_a = [None] * len(self.V), None
        grads_b = grad_c = None
        if residual is not None:
            gs = self.backward(pres, residual)
            if self.b is not None:
                grads_b = [g.sum(axis=1) * -dt for g in gs]
                grad_c = residual.sum(axis=1) * -dt
            for i, (g, c) in enumerate(zip(gs, self.scale)):
                lhs = acts[i].T if i == 0 else acts[i].transpose(0, 2, 1)
                grads_V[i] = np.matmul(lhs, g * (-dt * c), out=self._buffer(("g", i), self.V[i].shape))
            if move_readout:
                if self.a.ndim == 3:
                    grad_a = np.matmul(acts[-1].transpose(0, 2, 1), residual)
                else:
                    grad_a = np.matmul(residual[:, None, :], acts[-1])[:, 0, :]
                grad_a *= -dt * self.readout_scale
        for i, V in enumerate(self.V):
            V *= 1.0 - rates[i] * dt
            if grads_V[i] is not None:
                V += grads_V[i]
            if sd:
                self._add_noise(i, V, rng, sd, flip=False)
        if move_readout:
            self.a *= decay
            if grad_a is not None:
                self.a += grad_a
            if sd:
                self._add_noise("a", self.a, rng, sd, flip=True)
        if self.b is not None:
            rates_b = gamma_b if isinstance(gamma_b, list) else [rates[-1] if gamma_b is None else gamma_b] * len(rates)
            for i, b in enumerate(self.b):
                if rates_b[i] is None:
                    continue
                b *= 1.0 - rates_b[i] * dt
                if grads_b is not None:
                    b += grads_b[i]
                if sd:
                    self._add_noise(("b", i), b, rng, sd, flip=False)
            if move_readout and rates_b[-1] is not None:
                self.c *= 1.0 - rates_b[-1] * dt
                if grad_c is not None:
                    self.c += grad_c
                if sd:
                    self._add_noise("c", self.c, rng, sd, flip=True)
