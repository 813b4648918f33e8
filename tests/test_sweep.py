"""Sweeps on Dask (issue 16): a 2-worker LocalCluster gives the serial results bit for bit, and a
worker killed mid-task loses nothing (the scheduler reruns its tasks elsewhere)."""
import os
import signal
import threading
import time

import numpy as np
import pytest

import symndk
from symndk.errors import SymndkError
from symndk.sweep import grid, map_ndk, parallel_map, sweep
from symndk.sweep.scheduler import check_scheduler

distributed = pytest.importorskip("distributed")

TIMES = np.geomspace(1e-2, 3e3, 12)


@pytest.fixture(scope="module")
def digits():
    return symndk.data.digits(0, 1, n_per_class=6, n_test_per_class=2)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=50) as c, distributed.Client(c) as client:
        yield client


def _same(rows, other):
    assert len(rows) == len(other)
    for a, b in zip(rows, other):
        assert a.keys() == b.keys()
        assert all(np.array_equal(a[k], b[k]) for k in a), a


def test_local_cluster_gives_the_serial_results_bit_for_bit(digits, cluster):
    points = grid(activation=["relu", "erf"], depth=[1, 2], T=[1e-2])
    serial = sweep(points, digits, TIMES)
    _same(sweep(points, digits, TIMES, scheduler=cluster), serial)
    # the map is the physics, not an artefact of the sweep: e_opt <= both ends, and the NNGP end is t -> inf
    for r in serial:
        assert r["err_opt"] <= min(r["err_final"], r["curve"][0]) + 1e-15
        assert abs(r["err_final"] - r["err_nngp"]) < 1e-6 * max(r["err_nngp"], 1.0)
    assert len({r["err_opt"] for r in serial}) == len(serial)  # foil: the points really differ


def test_killed_worker_loses_nothing(digits, cluster):
    points = grid(activation=["relu", "erf"], depth=[2, 3], T=[1e-2])
    serial = sweep(points, digits, TIMES)
    out, killed = {}, []
    thread = threading.Thread(target=lambda: out.setdefault("rows", sweep(points, digits, TIMES, scheduler=cluster)))
    thread.start()
    deadline = time.monotonic() + 60
    while not killed and time.monotonic() < deadline:
        busy = [w for w, keys in cluster.processing().items() if keys]
        if busy:
            pid = cluster.run(os.getpid, workers=busy[:1])[busy[0]]
            killed.append((pid, list(cluster.processing()[busy[0]])))
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    thread.join(120)
    assert killed and killed[0][1], "no worker was busy to kill"
    gone = time.monotonic() + 30  # the nanny reaps the killed process (until then it is a zombie)
    while time.monotonic() < gone:
        try:
            os.kill(killed[0][0], 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"worker process {killed[0][0]} still exists")
    _same(out["rows"], serial)
    cluster.wait_for_workers(2, timeout=60)  # the nanny restarted it


def test_map_ndk_and_parallel_map_on_a_cluster(cluster):
    d = symndk.data.synthetic(4, 0.5)
    points = grid(activation=["relu"], depth=[1, 2], T=[0.01, 0.1])
    fn = lambda ndk, Xt: ndk.equilibrium("nngp", Xt).test[0]  # noqa: E731 (closures ship by cloudpickle)
    got = map_ndk(fn, points, d.X_train, d.y_train, args=(d.X_test,), scheduler=cluster)
    want = [symndk.NDK(p.network, d.X_train, d.y_train, T=p.T).equilibrium("nngp", d.X_test).test[0] for p in points]
    assert all(np.array_equal(g, w) for g, w in zip(got, want))
    assert parallel_map(divmod, [(7, 2), (9, 4)], scheduler=cluster) == [(3, 1), (2, 1)]


@pytest.mark.parametrize("bad", ["udp://h:1", "tcp://h", "local ", "http://x:80", ""])
def test_bad_scheduler_is_one_line(bad):
    with pytest.raises(SymndkError, match="--scheduler must be"):
        check_scheduler(bad)


def test_bad_grid_is_one_line():
    with pytest.raises(SymndkError, match="unknown Network field 'width'"):
        grid(width=[1])
    with pytest.raises(SymndkError, match="depth must be"):
        grid(depth=[0])
    with pytest.raises(SymndkError, match="1..100000 points"):
        grid(depth=list(range(1, 101)), sigma0_sq=list(np.linspace(0.1, 1, 1001)))


def test_cli_sweep_on_a_tcp_scheduler_writes_the_serial_files(cluster, tmp_path, capsys, monkeypatch):
    from symndk.cli import main
    from symndk.sweep import scheduler

    monkeypatch.setattr(scheduler, "CONNECT_TIMEOUT", "1s")
    args = ["sweep", "--task", "synthetic:4,0.5", "--activation", "relu,erf", "--depth", "1,2", "--T", "0.01,0.1",
            "--times", "0.01:30:15"]
    assert main(args + ["--out", str(tmp_path / "serial")]) == 0
    address = cluster.scheduler.address
    assert address.startswith("tcp://")
    assert main(args + ["--out", str(tmp_path / "dask"), "--scheduler", address]) == 0
    assert (tmp_path / "serial.csv").read_bytes() == (tmp_path / "dask.csv").read_bytes()
    assert len((tmp_path / "serial.csv").read_text().splitlines()) == 1 + 8
    with np.load(tmp_path / "serial.npz") as a, np.load(tmp_path / "dask.npz") as b:
        assert a["curves"].shape == (8, 15) and np.array_equal(a["curves"], b["curves"])
    assert main(["sweep", "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "x")]) == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err


def test_reproduce_runs_its_sweeps_on_the_cluster(cluster, tmp_path):
    import types

    from symndk.reproduce import tasks
    from symndk.reproduce.runner import run_reproduction

    ds = symndk.data.synthetic(4, 0.5)
    cfgs = [tasks.Config(a, d, 0.5, 1.0, 0.01) for a in ("relu", "erf") for d in (1, 2)]
    got = {}

    def run(ctx):
        got[ctx.name] = ctx.map(tasks.trajectory, [(ds, c, tasks.time_grid(c, 20)) for c in cfgs])
        ctx.claim("ran", "all configurations", len(got[ctx.name]) == len(cfgs), {"n": len(got[ctx.name])}, "== 4")

    demo = types.SimpleNamespace(TITLE="demo", QUESTION="q", run=run)
    run_reproduction("serial", tmp_path, module=demo, jobs=1, echo=lambda s: None)
    rep = run_reproduction("dask", tmp_path, module=demo, echo=lambda s: None, scheduler=cluster)
    assert rep.passed
    _same(got["dask"], got["serial"])


def test_large_shared_arrays_are_sent_once(cluster, monkeypatch):
    from symndk.sweep import scheduler

    monkeypatch.setattr(scheduler, "SCATTER_BYTES", 8)
    X = np.arange(40.0).reshape(8, 5)
    got = parallel_map(np.dot, [(X[i], X[i]) for i in range(8)] + [(X.sum(0), X.sum(0))] * 3, scheduler=cluster)
    assert got == [float(X[i] @ X[i]) for i in range(8)] + [float(X.sum(0) @ X.sum(0))] * 3
    shared = scheduler._scatter(cluster, [(X, 1), (X, 2), (X[0].copy(), 3)])
    assert list(shared) == [id(X)]


@pytest.mark.parametrize("extra, message", [
    (["--task", "files"], "needs a task with test targets"),
    (["--depth", "0"], "depth must be"),
    (["--depth", "1,x"], "comma list of int"),
    (["--T", "0", "--times", "0.01:30:5"], "T > 0"),
    (["--times", "1:2"], "t_min:horizon:num"),
    (["--workers", "0", "--scheduler", "local"], "--workers must be"),
    (["--rtol", "-1"], "--rtol must be > 0"),
])
def test_cli_sweep_bad_input_is_one_line(extra, message, tmp_path, capsys):
    from symndk.cli import main

    assert main(["sweep", "--task", "synthetic:4,0.5", "--out", str(tmp_path / "x"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_cli_sweep_with_a_list_of_times_and_gradient_flow(tmp_path, capsys):
    from symndk.cli import main

    assert main(["sweep", "--task", "synthetic:4,0.5", "--T", "0,0.01", "--times", "0,1,10,100",
                 "--out", str(tmp_path / "s")]) == 0
    rows = (tmp_path / "s.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[1].split(",")[6] == "0.0"
    with np.load(tmp_path / "s.npz") as f:
        assert f["times"].tolist() == [[0.0, 1.0, 10.0, 100.0]] * 2
