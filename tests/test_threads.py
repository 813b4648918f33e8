"""Thread counts of symndk's own pools (symndk.backend.threads): precedence of the limits, sweep tasks
at one thread, and the pools sized from it at call time (issue 16: no oversubscription in process pools)."""
import numpy as np
import pytest

from symndk.backend import threads
from symndk.errors import SymndkError


def test_precedence_limited_then_symndk_threads_then_omp_then_cores(monkeypatch):
    monkeypatch.delenv("SYMNDK_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads.workers() == threads.cores()
    monkeypatch.setenv("OMP_NUM_THREADS", "5,2")        # nested OpenMP form: the first level
    assert threads.workers() == 5
    monkeypatch.setenv("SYMNDK_THREADS", "7")
    assert threads.workers() == 7
    with threads.limited(3):
        assert threads.workers() == 3
        with threads.limited(1):
            assert threads.workers() == 1
        assert threads.workers() == 3
    assert threads.workers() == 7


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_thread_counts_are_one_line_errors(monkeypatch, value):
    monkeypatch.setenv("SYMNDK_THREADS", value)
    with pytest.raises(SymndkError, match="SYMNDK_THREADS must be a whole number"):
        threads.workers()
    with pytest.raises(SymndkError, match="threads must be a whole number"):
        with threads.limited(0):
            pass


def test_sweep_tasks_run_at_one_thread(monkeypatch):
    from symndk.sweep.scheduler import call

    monkeypatch.setenv("SYMNDK_THREADS", "4")
    assert call(threads.workers, ()) == 1
    assert threads.workers() == 4                      # foil: outside a task the environment's count


def test_static_and_panel_pools_are_sized_at_call_time(monkeypatch):
    import os

    import symndk.kernels.static as static
    from symndk.dynamics import volterra

    sizes = []
    real = threads.pool
    monkeypatch.setattr(threads, "pool", lambda n: sizes.append(n) or real(n))
    X = np.random.default_rng(0).standard_normal((40, 8))
    with threads.limited(1):
        one = static.static_kernels(X, activation="erf", depth=2).ntk.train   # on the calling thread
    monkeypatch.setenv("SYMNDK_THREADS", "3")
    three = static.static_kernels(X, activation="erf", depth=2).ntk.train
    assert sizes == [3]
    assert np.array_equal(one, three)                  # the same numbers whatever the threads
    monkeypatch.setattr(volterra, "PARALLEL_MIN", 1)
    B, Z = np.ones((2, 6, 4)), np.ones((1, 2, 4, 3))
    with threads.limited(2):
        volterra._apply(B, Z)
    assert sizes == [3, 2] and (os.getpid(), 2) in threads._POOLS


def test_pools_persist_and_work_from_a_pool_thread_runs_there(monkeypatch):
    import symndk.kernels.static as static

    X = np.random.default_rng(1).standard_normal((64, 8))
    with threads.limited(2):
        first = threads.pool(2)
        direct = static.static_kernels(X, activation="relu", depth=2).nngp.train
        assert threads.pool(2) is first                # kept: no thread start per call
        asked = []
        monkeypatch.setattr(threads, "pool", lambda n: asked.append(n) or first)
        nested = first.submit(lambda: static.static_kernels(X, activation="relu", depth=2).nngp.train).result(10)
    assert asked == []                                 # on a pool thread the rows run there, in series
    assert np.array_equal(direct, nested)
