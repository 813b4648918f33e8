"""Everything ``symndk verify`` proves: the spec identities and the runtime checks of the code that runs.

In: the identity catalogue of the spec (:mod:`symndk.identities`) and the generated kernels of
every backend (:mod:`symndk.kernels`). Out: one list of identities, each verified to a stated tier
(:func:`catalogue`, :func:`verify`). The ``runtime.*`` identities (:mod:`.runtime`) tie each
backend's runtime recursion to the SymPy spec, so the code that runs is the code that was proved.
Also here, above everything they check: the registry checks of generated kernels against
independent quadrature (:mod:`.kernels`), the pipeline for a new activation that ends with them
(:mod:`.activation`: parse, derive, generate, load, check) and the finite-width Langevin
validations of the theory (:mod:`.langevin`).

Example:
    >>> [r.tier for r in verify("runtime.mpmath.linear")]
    ['sampled']
"""
from __future__ import annotations

from symndk.errors import SymndkError
from symndk.identities import catalogue as spec_catalogue
from symndk.identities import select
from symndk.identities.engine import Identity, Result


def catalogue(activations=None) -> list[Identity]:
    """Spec identities plus ``runtime.*`` for the given activations (default: every closed-form one);
    activations without closed-form kernels get the families of :mod:`.numeric_identities`."""
    from symndk.checks import runtime
    from symndk.identities.cat_duals import closed_form_activations

    if activations:
        from symndk.spec.activations import get_activation
        from symndk.spec.dual import dual_kernels

        numeric = [n for n in activations if None in (dual_kernels(get_activation(n)).F, dual_kernels(get_activation(n)).Fdot)]
        closed = [n for n in activations if n not in numeric]
        if numeric:   # no closed form: the families on the certified numeric kernels
            from symndk.checks.numeric_identities import identities as numeric_identities

            out = numeric_identities(numeric)
            return (spec_catalogue(closed) + runtime.identities(closed) if closed else []) + out
    idents = spec_catalogue(activations)
    return idents + runtime.identities(list(activations) if activations else closed_form_activations())


def verify(only: str | None = None, activations=None, progress=None) -> list[Result]:
    """Verify the selected identities; ``progress`` wraps the iterable (e.g. ``tqdm``)."""
    idents = select(catalogue(activations), only)
    if not idents:
        raise SymndkError(f"no identity matches {only!r}")
    it = progress(idents) if progress else idents
    return [ident.verify() for ident in it]
