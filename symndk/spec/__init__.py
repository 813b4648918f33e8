"""The theory as SymPy objects: activation text in, symbolic prior, dual kernels and recursion out.

In: activation expressions (the restricted parser :mod:`.parser` turns user text into SymPy
without evaluating it). Out: the activation registry with phi' derived (:mod:`.activations`),
Gaussian expectations and the Price-theorem dual kernels F, Fdot, V, Fbar (:mod:`.gaussian`,
:mod:`.dual`, :mod:`.cint`), the prior C(t, s) (:mod:`.prior`) and the layer recursion and NDK
(:mod:`.recursion`) -- the latter two are the runtime equations of :mod:`symndk.runtime` evaluated
on SymPy numbers.

Example:
    >>> from symndk.spec.activations import get_activation
    >>> get_activation("relu").dphi
    Heaviside(x)
"""
