"""Dual kernels at run time: generated modules in, evaluable kernels and static kernel matrices out.

In: the modules ``codegen`` wrote (shipped in ``symndk_generated`` or, for user activations, in the
hash-recorded cache). Out: module-like objects with ``F``, ``Fdot``, ``V``, ``layer`` (:mod:`.loader`),
numeric fallbacks where no closed form exists (:mod:`.quadrature`) and the static NNGP/NTK
matrices (:mod:`.static`). The checks of these kernels live above them, in :mod:`symndk.checks`.

Example:
    >>> from symndk.kernels.loader import load
    >>> float(load("relu").V(2.0))
    1.0
"""
