"""How many threads symndk's own pools use.

symndk runs its own work in threads, with BLAS held at one thread inside them: the row tasks of the
static kernels (:mod:`symndk.kernels.static`) and the panel products of the Volterra solver
(:mod:`symndk.dynamics.volterra`). Both take :func:`pool`, sized by :func:`workers` read at call time:

1. a :func:`limited` block (innermost wins), e.g. the tasks of a sweep (:mod:`symndk.sweep.scheduler`:
   one thread each, so that a cluster's processes do not oversubscribe its cores);
2. ``$SYMNDK_THREADS``;
3. ``$OMP_NUM_THREADS`` (its first entry), the usual way to give a process its share of the cores
   (``symndk reproduce --jobs`` sets it to 1 in its worker processes);
4. the cores this process may run on (its CPU affinity).

Example:
    >>> with limited(1):
    ...     workers()
    1
    >>> import os
    >>> os.environ["SYMNDK_THREADS"] = "3"
    >>> workers()
    3
    >>> os.environ["SYMNDK_THREADS"] = "many"
    >>> workers()
    Traceback (most recent call last):
    ...
    symndk.errors.SymndkError: SYMNDK_THREADS must be a whole number of threads >= 1, got 'many'
    >>> del os.environ["SYMNDK_THREADS"]
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from symndk.errors import SymndkError

#: name prefix of :func:`pool` threads (work submitted from one of them runs on it: no nested hand-off)
PREFIX = "symndk-pool"
_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}
_LIMIT: contextvars.ContextVar[int | None] = contextvars.ContextVar("symndk_threads", default=None)
#: environment variables read by :func:`workers`, in order
VARIABLES = ("SYMNDK_THREADS", "OMP_NUM_THREADS")


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def workers() -> int:
    """Threads of symndk's pools (see the module docstring for the order of precedence)."""
    limit = _LIMIT.get()
    if limit is not None:
        return limit
    for var in VARIABLES:
        value = os.environ.get(var, "").split(",")[0].strip()
        if value:
            if not value.isdigit() or int(value) < 1:
                raise SymndkError(f"{var} must be a whole number of threads >= 1, got {os.environ[var]!r}")
            return int(value)
    return cores()


@contextlib.contextmanager
def limited(n: int):
    """Within the block (this thread or task), :func:`workers` is ``n``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SymndkError(f"threads must be a whole number >= 1, got {n!r}")
    token = _LIMIT.set(n)
    try:
        yield
    finally:
        _LIMIT.reset(token)


def pool(n: int) -> ThreadPoolExecutor:
    """This process's pool of ``n`` threads, started on first use and kept (a pool started per call costs
    ~1 ms per thread, 4% of the static kernels at P = 2000; a forked child starts its own: the parent's
    threads do not exist in it, and their executor would wait on them forever).

    Example:
        >>> pool(2) is pool(2), pool(2).submit(in_pool).result()
        (True, True)
    """
    key = os.getpid(), n
    if key not in _POOLS:
        _POOLS[key] = ThreadPoolExecutor(n, thread_name_prefix=PREFIX)
    return _POOLS[key]


def in_pool() -> bool:
    """True on a :func:`pool` thread (its work runs there, in series: waiting on the pool from inside
    it could deadlock)."""
    return threading.current_thread().name.startswith(PREFIX)
