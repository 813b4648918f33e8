"""Fast float64 dynamics: kernels and data in, mean-predictor trajectories out.

In: loaded dual kernels (:mod:`symndk.kernels`), the runtime recursion (:mod:`symndk.runtime`),
training/test inputs and targets. Out: the two-time kernel blocks (:mod:`.twotime`; in other array
namespaces from the input blocks of :mod:`.device`), their
low-rank compression (:mod:`.compress`), panel meshes (:mod:`.mesh`), the Radau IIA Volterra
solve (:mod:`.volterra`), and the predictor, equilibria, drift and correlation (:mod:`.solvers`).

Example:
    >>> from symndk.dynamics.mesh import radau_nodes
    >>> [round(float(c), 6) for c in radau_nodes(2)]
    [0.333333, 1.0]
"""
