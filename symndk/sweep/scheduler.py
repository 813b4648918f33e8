"""Run one function over a list of argument tuples: serially, or on a Dask cluster.

``scheduler``:

| value | where the tasks run |
|---|---|
| ``None`` / ``"serial"`` | this process, one after another |
| ``"local"`` | a ``distributed.LocalCluster`` started here (``workers`` processes, one thread each) |
| ``"tcp://host:port"`` (or ``tls://``) | an existing Dask scheduler |
| a ``distributed.Client`` | that client's cluster |

Every task runs with BLAS held at one thread and its array arguments copied to fresh memory (here and
on the workers), so a task's floating-point operations do not depend on where it runs and the results
equal the serial run's bit for bit.
A task whose worker dies is rerun elsewhere by the scheduler (``distributed``'s
``allowed-failures``, raised to ``ALLOWED_FAILURES``); one that raises is retried ``retries`` times.

Example:
    >>> parallel_map(divmod, [(7, 2), (9, 4)], scheduler="serial")
    [(3, 1), (2, 1)]
    >>> parallel_map(divmod, [(7, 2)], scheduler="udp://x")
    Traceback (most recent call last):
    ...
    symndk.errors.SymndkError: --scheduler must be 'serial', 'local' or tcp://host:port (a Dask scheduler), got 'udp://x'
"""
from __future__ import annotations

import contextlib
import os
import re

import numpy as np
from threadpoolctl import threadpool_limits

from symndk.backend import threads
from symndk.errors import SymndkError
from symndk.kernels.static import reuse_heap

_ADDRESS = re.compile(r"^(tcp|tls)://[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")
#: how many worker deaths a task may see before Dask gives up on it (distributed's default is 3)
ALLOWED_FAILURES = 5
#: how long to wait for an existing scheduler to answer
CONNECT_TIMEOUT = "10s"


def check_scheduler(scheduler) -> str | object:
    """The scheduler argument, validated (a string is 'serial', 'local' or a tcp/tls address)."""
    if scheduler is None:
        return "serial"
    if not isinstance(scheduler, str):
        if type(scheduler).__name__ == "Client":
            return scheduler
        raise SymndkError(f"scheduler must be a string or a distributed.Client, got {type(scheduler).__name__}")
    if scheduler in ("serial", "local") or _ADDRESS.match(scheduler):
        return scheduler
    raise SymndkError(f"--scheduler must be 'serial', 'local' or tcp://host:port (a Dask scheduler), got {scheduler!r}")


def _fresh(value):
    """Arrays copied into fresh C-ordered memory (in tuples and lists too): arrays unpickled from Dask's
    frames can sit at any 8-byte offset, and numpy's SIMD loops (einsum) round differently there."""
    if isinstance(value, np.ndarray):
        return np.array(value, order="C", copy=True)
    if isinstance(value, (tuple, list)):
        return type(value)(_fresh(v) for v in value)
    return value


def call(fn, args):
    """``fn(*args)`` with BLAS and symndk's own pools (:mod:`symndk.backend.threads`) at one thread, and
    the array arguments in fresh memory: the same arithmetic wherever it runs, and a cluster's worker
    processes do not oversubscribe its cores."""
    reuse_heap()  # Dask workers start with MALLOC_TRIM_THRESHOLD_=65536: numpy temporaries 2.6x slower
    with threadpool_limits(1), threads.limited(1):
        return fn(*_fresh(tuple(args)))


@contextlib.contextmanager
def client(scheduler, workers=None):
    """A ``distributed.Client`` for ``scheduler`` ('local' starts a LocalCluster and closes it after)."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise SymndkError("Dask sweeps need dask and distributed: pip install 'symndk[dask]'") from None
    if not isinstance(scheduler, str):
        yield scheduler
        return
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
        if scheduler == "local":
            n = int(workers or os.cpu_count() or 1)
            if n < 1:
                raise SymndkError(f"workers must be >= 1, got {workers}")
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                              silence_logs=40) as cluster, Client(cluster) as c:
                yield c
        else:
            try:
                c = Client(scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as exc:
                raise SymndkError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
            with c:
                yield c


def parallel_map(fn, arglist, scheduler=None, workers=None, retries=2) -> list:
    """``[fn(*args) for args in arglist]`` on ``scheduler`` (see the module table), in order.

    ``fn`` and the arguments must pickle (module-level functions do; Dask also ships closures by
    cloudpickle). ``workers``: processes of the ``"local"`` cluster (default: all cores).
    """
    scheduler = check_scheduler(scheduler)
    arglist = [tuple(a) for a in arglist]
    if scheduler == "serial" or not arglist:
        return [call(fn, a) for a in arglist]
    with client(scheduler, workers) as c:
        shared = _scatter(c, arglist)
        futures = [c.submit(call, fn, _swap(a, shared), pure=False, retries=retries) for a in arglist]
        return c.gather(futures)


#: arrays at least this large that several tasks share are sent to the cluster once (scatter)
SCATTER_BYTES = 1 << 20


def _arrays(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _arrays(v)


def _scatter(c, arglist) -> dict:
    """id -> future of each large array that appears in more than one task's arguments."""
    seen: dict[int, list] = {}
    for args in arglist:
        for a in {id(a): a for a in _arrays(args) if a.nbytes >= SCATTER_BYTES}.values():
            seen.setdefault(id(a), [a, 0])[1] += 1
    return {k: c.scatter(a, hash=False) for k, (a, n) in seen.items() if n > 1}


def _swap(value, shared):
    """``value`` with the shared arrays replaced by their futures (Dask resolves them on the worker)."""
    if isinstance(value, np.ndarray):
        return shared.get(id(value), value)
    if isinstance(value, (tuple, list)):
        return type(value)(_swap(v, shared) for v in value)
    return value
