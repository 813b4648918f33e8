"""Finite-width validation: a network description and data in, ensemble statistics and z-scores out.

In: activation, depth, width, prior and temperature, data. Out: the mean (and standard error) of
an ensemble of finite networks trained by Langevin dynamics (:mod:`.simulator`, :mod:`.network`,
:mod:`.stats`), empirical NTKs (:mod:`.ntk`) and the matching infinite-width theory (:mod:`.theory`). The
validation runs that compare them live in :mod:`symndk.checks.langevin`.

Example:
    >>> from symndk.langevin.stats import time_steps
    >>> callable(time_steps)
    True
"""
