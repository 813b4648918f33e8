"""Fig. 1c: theory against a finite-width Langevin ensemble (synthetic task, with error bars).

The mean predictor of the infinite-width theory (``symndk.predict``) is compared with the
ensemble mean of finite-width networks trained by Langevin dynamics (``symndk.simulate``,
antithetic pairs), on the training point x_1 and the test point, over both phases. Agreement is
measured as z = (simulation - theory) / standard error: the rms and max |z| over recorded times.
Finite width and finite dt bias the simulation slightly (docs/theory.md §13), so the
criterion allows that bias on top of the statistical error.

Example:
    >>> zscores([1.2, 2.0], [1.0, 2.0], [0.1, 0.5])
    array([2., 0.])
"""
from __future__ import annotations

import numpy as np

from symndk.reproduce import plotting, tasks
from symndk.reproduce.runner import call

TITLE = "paper fig. 1c -- theory vs finite-width Langevin simulation (synthetic task)"
QUESTION = "Does the infinite-width mean predictor match an ensemble of finite-width networks trained by Langevin dynamics?"

CFG = tasks.Config("relu", 1, sigma0_sq=2.0, sigma_sq=1.0, T=0.05)
BIAS = 0.005  # finite-width / finite-dt bias allowed on top of the standard error (docs/theory.md §13)


def zscores(sim, theory, se):
    """(sim - theory) / se, elementwise."""
    return (np.asarray(sim, float) - np.asarray(theory, float)) / np.asarray(se, float)


def _simulate(ds, cfg, width, dt, times, n_networks, seed):
    import symndk

    res = symndk.simulate(ds.X_train, ds.y_train, ds.X_test, activation=cfg.activation, depth=cfg.depth, width=width,
                          sigma0_sq=cfg.sigma0_sq, sigma_sq=cfg.sigma_sq, T=cfg.T, dt=dt, times=times,
                          n_networks=n_networks, seed=seed, progress=False)
    return {"times": res.times, "train": res.train, "train_se": res.train_se, "test": res.test, "test_se": res.test_se}


def run(ctx):
    width = ctx.pick(128, 256)
    dt = ctx.pick(0.02, 0.01)
    n_networks = ctx.pick(200, 400)
    horizon = ctx.pick(2.0, 4.0) / CFG.gamma
    ds, r = tasks.synthetic(CFG)
    steps = np.unique(np.round(np.geomspace(dt, horizon, ctx.pick(16, 28)) / dt).astype(int))
    times = steps * dt
    n_jobs = max(1, min(ctx.jobs, 8))
    per_job = int(np.ceil(n_networks / n_jobs / 2) * 2)
    ctx.params.update(config=CFG.as_dict(), task=ds.name, r=r, width=width, dt=dt, n_networks=per_job * n_jobs,
                      horizon=horizon, bias_allowance=BIAS)
    work = [(tasks.trajectory, (ds, CFG, np.geomspace(1e-3, horizon, 300)))]
    work += [(_simulate, (ds, CFG, width, dt, times, per_job, seed)) for seed in range(n_jobs)]
    out = ctx.map(call, work, desc="theory + ensemble")
    theory, sims = out[0], out[1:]
    sim = _combine(sims)
    th_train = np.interp(np.log(sim["times"]), np.log(theory["times"]), theory["train"][:, 0])
    th_test = np.interp(np.log(sim["times"]), np.log(theory["times"]), theory["test"][:, 0])
    z_train = zscores(sim["train"][:, 0], th_train, np.hypot(sim["train_se"][:, 0], BIAS))
    z_test = zscores(sim["test"][:, 0], th_test, np.hypot(sim["test_se"][:, 0], BIAS))
    ctx.data("simulation", theory_times=theory["times"], theory_train=theory["train"], theory_test=theory["test"],
             sim_times=sim["times"], sim_train=sim["train"], sim_train_se=sim["train_se"], sim_test=sim["test"],
             sim_test_se=sim["test_se"])
    ctx.table("simulation", [{"t": t, "sim_train": a, "se_train": b, "theory_train": c, "sim_test": d, "se_test": e,
                              "theory_test": f} for t, a, b, c, d, e, f in
                             zip(sim["times"], sim["train"][:, 0], sim["train_se"][:, 0], th_train, sim["test"][:, 0],
                                 sim["test_se"][:, 0], th_test)])
    raw = np.concatenate([zscores(sim["train"][:, 0], th_train, sim["train_se"][:, 0]),
                          zscores(sim["test"][:, 0], th_test, sim["test_se"][:, 0])])
    rms = float(np.sqrt(np.mean(np.concatenate([z_train, z_test]) ** 2)))
    zmax = float(np.max(np.abs(np.concatenate([z_train, z_test]))))
    ctx.claim("theory-matches-langevin-ensemble",
              "the theory matches Langevin simulation of finite-width networks averaged over many seeds",
              rms < 2.0 and zmax < 4.0,
              {"rms_z": rms, "max_z": zmax, "rms_z_without_bias_allowance": float(np.sqrt(np.mean(raw ** 2))),
               "max_z_without_bias_allowance": float(np.max(np.abs(raw))), "networks": per_job * n_jobs, "width": width,
               "median_se_test": float(np.median(sim["test_se"][:, 0]))},
              f"rms z < 2 and max |z| < 4, z = (sim - theory)/sqrt(se^2 + {BIAS:g}^2)")
    _plot(ctx, theory, sim, width)


def _combine(sims):
    """Pool independent ensembles (equal sizes): mean of means, se / sqrt(k)."""
    k = len(sims)
    out = {"times": sims[0]["times"]}
    for key in ("train", "test"):
        out[key] = np.mean([s[key] for s in sims], axis=0)
        out[f"{key}_se"] = np.sqrt(np.sum([s[f"{key}_se"] ** 2 for s in sims], axis=0)) / k
    return out


def _plot(ctx, theory, sim, width):
    fig, ax = plotting.panels(1, 1, width=5.0, height=3.4)
    a = ax[0, 0]
    for key, col, lab in (("train", "C0", r"training point $x_1$"), ("test", "C3", r"test point $x^*$")):
        a.plot(theory["times"], theory[key][:, 0], color=col, label=f"theory, {lab}")
        a.errorbar(sim["times"], sim[key][:, 0], yerr=2 * sim[f"{key}_se"][:, 0], fmt="o", ms=3.5, color=col,
                   mfc="w", capsize=2, lw=1, label=f"Langevin mean, {lab}")
    a.axhline(theory["ntk"][0], color="C3", label="NTK equilibrium (test)", **plotting.NTK_STYLE)
    a.axhline(theory["nngp"][0], color="C3", label="NNGP equilibrium (test)", **plotting.NNGP_STYLE)
    plotting.log_time(a, gamma=CFG.gamma)
    a.set_ylabel("mean predictor")
    a.text(0.99, 0.03, f"markers: {ctx.params.get('n_networks', '')} networks of width {width}, $\\pm$2 se",
           transform=a.transAxes, ha="right", va="bottom", fontsize=7, color="0.3")
    a.set_title(f"{CFG.label()}, $\\sigma_0^2$={CFG.sigma0_sq:g}, $\\sigma^2$={CFG.sigma_sq:g}, T={CFG.T:g}")
    a.legend(loc="upper left", fontsize=7)
    ctx.figure(fig, "simulation")
