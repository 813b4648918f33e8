"""Run a SymPy computation on a user's expression with a time limit: in a forked child process that is
killed when the limit passes (SymPy cannot be interrupted from inside), or when its parent dies or is
terminated.

:func:`timeboxed` serves the closed-form derivation of a new activation (:func:`symndk.spec.dual.derive_dual`)
and the stable-form code generation of what it derived (:func:`symndk.checks.activation.activation_kernel`).

Example:
    >>> timeboxed(sum, ([1, 2, 3],), 30)
    ('ok', 6)
    >>> timeboxed(int, ("x",), 30)[0]
    'error'
    >>> import time
    >>> timeboxed(time.sleep, (5,), 0.5)
    ('timeout', 'no result within 0.5 s')
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading


def _die_with_parent(parent: int) -> None:  # pragma: no cover - runs in a child process
    """Ask Linux to SIGKILL this process when its parent dies (PR_SET_PDEATHSIG), and exit now if
    the parent is already gone; elsewhere a no-op (the parent still kills the child on its way out)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)


def _worker(fn, args, queue, parent):  # pragma: no cover - runs in a child process
    _die_with_parent(parent)
    try:
        queue.put(("ok", fn(*args)))
    except Exception as exc:  # a SymPy failure on a user expression: said in one line
        queue.put(("error", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))


def timeboxed(fn, args, timeout: float):
    """``fn(*args)`` in a forked child: ``("ok", result)``, ``("error", "Type: first line")`` or
    ``("timeout", message)`` after ``timeout`` seconds (the child is killed). The result must pickle."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_worker, args=(fn, args, queue, os.getpid()), daemon=True)
    previous = {}

    def _terminate(signum, frame):  # SIGTERM: the child goes first, then the parent's own handling
        if proc.is_alive():
            proc.kill()
        handler = previous.get(signum)
        signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    if threading.current_thread() is threading.main_thread():
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _terminate)
    proc.start()
    try:
        return queue.get(timeout=timeout)
    except Exception:  # timeout, or SIGINT (KeyboardInterrupt is not an Exception: re-raised after finally)
        return "timeout", f"no result within {timeout:g} s"
    finally:
        if previous:
            signal.signal(signal.SIGTERM, previous[signal.SIGTERM])
        proc.join(1)
        if proc.is_alive():
            proc.kill()
            proc.join(1)
