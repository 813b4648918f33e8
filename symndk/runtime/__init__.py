"""The equations every backend runs: the prior C(t, s) and the layer recursion, written once.

In: numbers of any backend (SymPy expressions, mpmath or gmpy2 scalars, float64 arrays) and a
dual-kernel object with ``F``, ``Fdot``, ``V``. Out: the two-time kernels K_L, Kdot_L, Theta_L and
the NDK. Only arithmetic and the backend's ``exp``/``expm1`` are used, so the SymPy spec, the
identities and every solver call this same code (:mod:`.recursion`).

Example:
    >>> from symndk.runtime.recursion import prior_C
    >>> import math
    >>> prior_C(0.0, 0.0, 0.5, 1.0, 0.1, math.exp)
    0.5
"""
