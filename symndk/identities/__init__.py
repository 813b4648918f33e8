"""The identity catalogue: every relation of docs/theory.md as a named, machine-checked identity.

``catalogue()`` lists the spec's identities and ``select`` picks ids by glob or substring;
:func:`symndk.checks.verify` runs them together with the ``runtime.*`` checks of the code that
runs. Identity ids are stable; the derivations in ``derivations/`` cite them.

Example:
    >>> [i.verify().tier for i in select(catalogue(), "prior.C00")]
    ['symbolic']
    >>> sorted(i.id for i in catalogue() if i.id.startswith("prior."))[:2]
    ['prior.C00', 'prior.equal_time_limit']
"""
from __future__ import annotations

import fnmatch
from functools import lru_cache

from symndk.errors import SymndkError
from symndk.identities.engine import Identity


@lru_cache(maxsize=None)
def _catalogue(activations: tuple[str, ...] | None) -> tuple[Identity, ...]:
    from symndk.identities import cat_bias, cat_duals, cat_equilibrium, cat_kernels, cat_prior, cat_proximal

    names = list(activations) if activations else cat_duals.closed_form_activations()
    return tuple(cat_prior.identities() + cat_duals.identities(names)
                 + cat_kernels.identities(names) + cat_equilibrium.identities(names)
                 + cat_proximal.identities(names) + cat_bias.identities(names))


def catalogue(activations=None) -> list[Identity]:
    """All identities (for the given activations; default: every closed-form registered one)."""
    if activations:
        from symndk.spec.activations import get_activation
        from symndk.spec.dual import dual_kernels

        for name in activations:
            d = dual_kernels(get_activation(name))  # unknown names raise SymndkError
            if d.F is None or d.Fdot is None:
                raise SymndkError(f"activation {name!r} has no closed-form dual kernel to verify")
    return list(_catalogue(tuple(activations) if activations else None))


def select(idents: list[Identity], only: str | None) -> list[Identity]:
    """Identities whose id matches ``only`` (a glob such as ``price.*`` or a plain substring)."""
    if not only:
        return idents
    pattern = only if any(ch in only for ch in "*?[") else f"*{only}*"
    return [i for i in idents if fnmatch.fnmatchcase(i.id, pattern)]
