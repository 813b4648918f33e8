"""Sweeps over grids of networks and temperatures, serial or on Dask (issue 16).

* :mod:`symndk.sweep.scheduler` -- :func:`parallel_map`: one function over many arguments, in this
  process (``"serial"``), on a local Dask cluster (``"local"``) or on an existing one
  (``"tcp://host:port"``); results in the order given and equal to the serial run's.
* :mod:`symndk.sweep.grid` -- :class:`Point` (a :class:`symndk.Network` and a T), :func:`grid`
  (their product), :func:`map_ndk` (any function of an :class:`symndk.NDK`, over the points) and
  :func:`sweep` (the early-stopping map: test error along the trajectory, its optimum and both equilibria).

Example:
    >>> from symndk.sweep import grid, parallel_map
    >>> [p.label() for p in grid(activation=["relu"], depth=[1, 2], T=[0.01])]
    ['relu L=1 sigma0^2=0.5 sigma^2=1 T=0.01', 'relu L=2 sigma0^2=0.5 sigma^2=1 T=0.01']
    >>> parallel_map(pow, [(2, 3), (3, 2)])
    [8, 9]
"""
from symndk.sweep.grid import Point, grid, map_ndk, sweep
from symndk.sweep.scheduler import parallel_map

__all__ = ["Point", "grid", "map_ndk", "parallel_map", "sweep"]
