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
    import symndk.kernels.static as static
    from symndk.dynamics import volterra

    sizes = []
    real = static.ThreadPoolExecutor
    monkeypatch.setattr(static, "ThreadPoolExecutor", lambda n: sizes.append(n) or real(n))
    X = np.random.default_rng(0).standard_normal((40, 8))
    with threads.limited(1):
        one = static.static_kernels(X, activation="erf", depth=2).ntk.train
    monkeypatch.setenv("SYMNDK_THREADS", "3")
    three = static.static_kernels(X, activation="erf", depth=2).ntk.train
    assert sizes == [1, 3]
    assert np.array_equal(one, three)                  # the same numbers whatever the threads
    monkeypatch.setattr(volterra, "PARALLEL_MIN", 1)
    B, Z = np.ones((2, 6, 4)), np.ones((1, 2, 4, 3))
    with threads.limited(2):
        volterra._apply(B, Z)
    assert (volterra.os.getpid(), 2) in volterra._POOLS
