"""Array-API backends: the generated kernels in any namespace, and the thread counts (issue 16).

* :mod:`symndk.backend.namespace` -- :func:`namespace_duals`: a generated NumPy module's dual kernels
  rebound to an array-API namespace (CuPy, PyTorch, array_api_strict, ...).
* :mod:`symndk.backend.select` -- which namespace a computation runs in: the inputs' own, or the one
  named by ``backend=`` / the ``SYMNDK_BACKEND`` environment variable (``SYMNDK_DEVICE`` for the device);
  NumPy by default.
* :mod:`symndk.backend.threads` -- how many threads symndk's own pools use (static kernels, Volterra panels):
  ``SYMNDK_THREADS``, ``OMP_NUM_THREADS`` or the cores; one inside sweep tasks; the persistent pool.

The computations that run in a namespace live with their kind: the static NNGP/NTK in
:mod:`symndk.kernels.static`, the two-time blocks and the compression in :mod:`symndk.dynamics.twotime`
and :mod:`symndk.dynamics.compress` (``backend=``).
"""
