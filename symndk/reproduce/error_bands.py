"""Error bands: the predictor of one network, mean +- one standard deviation across networks, along
the whole Langevin trajectory (THEORY_NEXT §A; issue 13).

The band is the infinite-width theory: the mean from ``NDK.predict`` and the spread from
``predict(..., cov=True)`` (an adjoint Volterra solve per time). Markers are a finite-width Langevin
ensemble (``NDK.simulate``): its mean and the standard deviation of one network's output across
the ensemble (streamed second moments). Task: the synthetic task (docs/theory.md §10, P = 4), erf,
L = 1, sigma0^2 = 2, sigma^2 = 1, T = 0.1 -- THEORY_NEXT's first-check setting -- so the spread
first shrinks as the training data are fitted and then settles at the NNGP posterior standard
deviation. Claim: the simulated standard deviations agree with the theory within 4 standard
errors plus the finite-width allowance 20/N (relative, on the variance; tests/test_covariance_langevin.py).

Example:
    >>> sd_z([0.5, 0.4], [0.5, 0.5], [0.01, 0.02], 0.0)
    array([ 0., -5.])
"""
from __future__ import annotations

import numpy as np

from symndk.reproduce import plotting, tasks
from symndk.reproduce.runner import call

TITLE = "error bands -- one network's predictor, mean +- 1 sd across networks, theory vs Langevin ensemble"
QUESTION = "Does the theory's ensemble spread along the trajectory match finite-width networks?"

CFG = tasks.Config("erf", 1, sigma0_sq=2.0, sigma_sq=1.0, T=0.1)


def sd_z(sim_sd, theory_sd, se_sd, allowance):
    """(sim - theory) / (se + allowance * theory) for standard deviations, elementwise."""
    sim_sd, theory_sd = np.asarray(sim_sd, float), np.asarray(theory_sd, float)
    return (sim_sd - theory_sd) / (np.asarray(se_sd, float) + allowance * theory_sd)


def _theory(ds, times):
    import symndk

    net = symndk.Network(CFG.activation, CFG.depth, CFG.sigma0_sq, CFG.sigma_sq)
    res = symndk.NDK(net, ds.X_train, ds.y_train, T=CFG.T).predict(times, ds.X_test, rtol=1e-9, cov=True)
    return {"times": res.times, "train": res.train, "test": res.test, "train_var": res.train_var,
            "test_var": res.test_var, "var_error_estimate": res.var_error_estimate}


def _simulate(ds, width, dt, times, n_networks, seed):
    import symndk

    net = symndk.Network(CFG.activation, CFG.depth, CFG.sigma0_sq, CFG.sigma_sq)
    res = symndk.NDK(net, ds.X_train, ds.y_train, T=CFG.T).simulate(width, n_networks, times, ds.X_test, seed=seed,
                                                                     dt=dt, progress=False)
    return {k: getattr(res, k) for k in ("train", "test", "train_var", "test_var", "train_var_se", "test_var_se")}


def run(ctx):
    import symndk

    width = ctx.pick(128, 256)
    n_networks = ctx.pick(400, 800)
    dt = 0.01
    ds = symndk.data.synthetic(4, 0.6)
    band_times = np.concatenate([[0.0], np.geomspace(0.05, 6.0 / CFG.gamma, ctx.pick(10, 24))])
    sim_times = np.round(np.geomspace(0.1, 5.0 / CFG.gamma, ctx.pick(5, 8)) / dt) * dt
    sim_times = np.unique(np.concatenate([[0.0], sim_times]))
    n_jobs = max(1, min(ctx.jobs, 8))
    per_job = int(np.ceil(n_networks / n_jobs / 2) * 2)
    allowance = 20.0 / width
    ctx.params.update(config=CFG.as_dict(), task=ds.name, width=width, dt=dt, n_networks=per_job * n_jobs,
                      variance_allowance=allowance)
    work = [(_theory, (ds, band_times)), (_theory, (ds, sim_times))]
    work += [(_simulate, (ds, width, dt, sim_times, per_job, seed)) for seed in range(n_jobs)]
    out = ctx.map(call, work, desc="theory band + ensemble")
    band, at_sim, sims = out[0], out[1], out[2:]
    sim = _pool(sims)
    th_var = np.hstack([at_sim["train_var"], at_sim["test_var"]])
    got, se = np.hstack([sim["train_var"], sim["test_var"]]), np.hstack([sim["train_var_se"], sim["test_var_se"]])
    th_sd, got_sd = np.sqrt(th_var), np.sqrt(np.maximum(got, 0.0))
    se_sd = se / (2 * np.maximum(got_sd, 1e-300))
    z = sd_z(got_sd, th_sd, se_sd, allowance / 2)          # 20/N on the variance is ~10/N on the sd
    z_raw = (got_sd - th_sd) / se_sd
    ctx.data("error_bands", band_times=band["times"], band_train=band["train"], band_test=band["test"],
             band_train_var=band["train_var"], band_test_var=band["test_var"], sim_times=sim_times,
             sim_train=sim["train"], sim_test=sim["test"], sim_train_var=sim["train_var"], sim_test_var=sim["test_var"],
             sim_train_var_se=sim["train_var_se"], sim_test_var_se=sim["test_var_se"])
    ctx.table("error_bands", [{"t": t, "theory_sd_test": a, "sim_sd_test": b, "theory_sd_train0": c, "sim_sd_train0": d}
                              for t, a, b, c, d in zip(sim_times, th_sd[:, -1], got_sd[:, -1], th_sd[:, 0], got_sd[:, 0])])
    ctx.claim("spread-matches-langevin-ensemble",
              "the ensemble spread (one network's sd around the mean) of the theory matches finite-width networks",
              bool(np.max(np.abs(z)) < 4.0),
              {"max_z": float(np.max(np.abs(z))), "max_z_without_allowance": float(np.max(np.abs(z_raw))),
               "rms_z_without_allowance": float(np.sqrt(np.mean(z_raw ** 2))), "networks": per_job * n_jobs,
               "width": width, "theory_var_error_estimate": float(band["var_error_estimate"])},
              f"|sd_sim - sd_theory| < 4 (se_sd + {allowance / 2:.3g} sd_theory) at every recorded time and input")
    _plot(ctx, band, sim, sim_times, width)


def _pool(sims):
    """Pool independent equal-size ensembles: means averaged, variances averaged (plus the spread of
    the means, which is O(se^2)), standard errors / sqrt(k)."""
    k = len(sims)
    out = {}
    for key in ("train", "test"):
        means = np.array([s[key] for s in sims])
        out[key] = means.mean(axis=0)
        between = means.var(axis=0) if k > 1 else 0.0
        out[f"{key}_var"] = np.mean([s[f"{key}_var"] for s in sims], axis=0) + between
        out[f"{key}_var_se"] = np.sqrt(np.sum([s[f"{key}_var_se"] ** 2 for s in sims], axis=0)) / k
    return out


def _plot(ctx, band, sim, sim_times, width):
    fig, ax = plotting.panels(1, 1, width=5.0, height=3.4)
    a = ax[0, 0]
    t = np.maximum(band["times"], band["times"][1] / 3)
    ts = np.maximum(sim_times, band["times"][1] / 3)
    for key, idx, col, lab in (("train", 0, "C0", r"training point $x_1$"), ("test", 0, "C3", r"test point $x^*$")):
        m, sd = band[key][:, idx], np.sqrt(band[f"{key}_var"][:, idx])
        a.plot(t, m, color=col, label=f"theory mean, {lab}")
        a.fill_between(t, m - sd, m + sd, color=col, alpha=0.18, lw=0, label=r"theory $\pm$1 sd")
        a.errorbar(ts, sim[key][:, idx], yerr=np.sqrt(np.maximum(sim[f"{key}_var"][:, idx], 0.0)), fmt="o", ms=3.5,
                   color=col, mfc="w", capsize=2, lw=1, label=r"Langevin mean $\pm$1 sd")
    plotting.log_time(a, gamma=CFG.gamma)
    a.set_ylabel("predictor of one network")
    a.text(0.99, 0.03, f"markers: {ctx.params.get('n_networks', '')} networks of width {width}",
           transform=a.transAxes, ha="right", va="bottom", fontsize=7, color="0.3")
    a.set_title(f"{CFG.label()}, $\\sigma_0^2$={CFG.sigma0_sq:g}, $\\sigma^2$={CFG.sigma_sq:g}, T={CFG.T:g}")
    a.legend(loc="upper left", fontsize=6, ncol=2)
    a.set_ylim(-1.6, 2.0)
    ctx.figure(fig, "error_bands")
