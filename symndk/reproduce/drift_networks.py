"""Drift across networks: the probability that one network classifies a training point correctly.

The mean predictor fbar(t) (``NDK.predict``) is the average over an ensemble of networks; one
network's output on a training point x_mu is, at infinite width, Gaussian around it with the
variance of ``predict(..., cov=True)`` (the ensemble covariance along the Langevin trajectory,
docs/theory.md §A). So one network classifies x_mu correctly with probability

    p_mu(t) = Phi(y_mu fbar_mu(t) / sd_mu(t)),

which starts at 1/2 (the prior: fbar = 0), rises in the gradient-driven phase and, in the diffusive
phase, settles where the weights keep drifting with the NNGP posterior spread: p_mu is then also
the fraction of time one drifting network gets x_mu right. Histograms of p_mu over the training
points are shown at several times.

Check: a finite-width Langevin ensemble of independent networks (``NDK.simulate`` with one
network per seed, no antithetic pairing, so the networks are independent), the fraction of networks
with y_mu f_mu > 0, against p_mu within 4 binomial standard errors plus a finite-width allowance (the
variance allowance 20/N of the error-bands reproduction, carried through Phi). Foils that must fail
the same test: p_mu with the sd of the prior (no training term in the covariance) and with the sd
of the T = 0 gradient-flow ensemble (Lee et al. 2019: the NTK covariance at the same time).

Task: 8x8 digits 3 vs 8, 10 per class (inputs at |x|^2 / N0 = 1), ReLU L = 1, sigma0^2 = sigma^2 = 1,
T = 0.5 (gamma = 0.5): hot enough that single networks misclassify some training points.

Measured (2026-12-05): full mode, 1000 networks of width 256, 10 times x 20 points: max |z| 1.68 with
the allowance (3.08 on the binomial se alone, rms 1.0), late-time p from 0.79 to 0.99; foils: prior
sd max |z| 13.3, gradient-flow sd 23.9. Quick (400 networks, width 128): 1.70; foils 7.9, 11.8.
498 CPU s full, 160 CPU s quick.

Example:
    >>> p_correct([1.0, -0.2], [1.0, 1.0], [1.0, 1.0])
    array([0.84134475, 0.42074029])
    >>> round(float(binomial_z(0.60, 0.84, 400, 0.0)), 2)
    -13.09
"""
from __future__ import annotations

import numpy as np

from symndk.reproduce import plotting, tasks
from symndk.reproduce.runner import call

TITLE = "drift across networks -- P(one network classifies a training point correctly) = Phi(y fbar / sd)"
QUESTION = "Does the ensemble covariance predict how often a single drifting network gets a training point right?"

CFG = tasks.Config("relu", 1, sigma0_sq=1.0, sigma_sq=1.0, T=0.5)
PAIR = (3, 8)
N_PER_CLASS = 10
HIST_GAMMA_T = (0.05, 0.5, 5.0)        # histogram times, in units of 1/gamma
VAR_ALLOWANCE = 20.0                    # relative finite-width allowance on the variance, / width


def p_correct(y, mean, var):
    """Phi(y mean / sd), elementwise: the probability that a Gaussian output has the sign of y."""
    from scipy.special import ndtr

    y, mean, var = (np.asarray(v, float) for v in (y, mean, var))
    return ndtr(y * mean / np.sqrt(var))


def binomial_z(frac, p, n, allowance):
    """(frac - p) / (sqrt(p (1 - p) / n) + allowance): a fraction of n networks against probability p.

    The standard error is the binomial one under p (floored at 0.5 / n, so p = 0 or 1 stays finite)."""
    frac, p = np.asarray(frac, float), np.asarray(p, float)
    se = np.maximum(np.sqrt(p * (1 - p) / n), 0.5 / n)
    return (frac - p) / (se + allowance)


def phi_allowance(y, mean, var, a):
    """Half the change of Phi(y mean / sd) when the variance moves by a relative +-a (a finite-width allowance)."""
    return np.abs(p_correct(y, mean, np.asarray(var) * (1 - a)) - p_correct(y, mean, np.asarray(var) * (1 + a))) / 2


def _ndk(ds):
    import symndk

    net = symndk.Network(CFG.activation, CFG.depth, CFG.sigma0_sq, CFG.sigma_sq)
    return symndk.NDK(net, ds.X_train, ds.y_train, T=CFG.T)


def _theory(ds, times):
    """Mean and ensemble variance on the training points (T > 0), and the T = 0 gradient-flow variance."""
    ndk = _ndk(ds)
    res = ndk.predict(times, None, rtol=1e-8, cov=True)
    flow = type(ndk)(ndk.network, ds.X_train, ds.y_train, T=0.0).ntk_dynamics(times, None, cov=True)
    prior = np.diag(ndk.prior_covariance(None))
    return {"times": res.times, "mean": res.train, "var": res.train_var, "flow_var": flow.train_var,
            "prior_var": np.broadcast_to(prior, res.train_var.shape).copy(), "error_estimate": res.error_estimate}


def _networks(ds, width, dt, times, seeds):
    """One independent network per seed: its outputs on the training points, (len(seeds), n_times, P)."""
    ndk = _ndk(ds)
    return np.stack([ndk.simulate(width, 1, times, None, seed=int(s), dt=dt, antithetic=False, progress=False).train
                     for s in seeds])


def run(ctx):
    import symndk

    width = ctx.pick(128, 256)
    n_networks = ctx.pick(400, 1000)
    dt = 0.01
    ds = symndk.data.digits(*PAIR, n_per_class=N_PER_CLASS, n_test_per_class=0)
    g = CFG.gamma
    sim_times = np.unique(np.round(np.concatenate([np.geomspace(0.1, 8.0, ctx.pick(5, 7)) / g,
                                                   np.asarray(HIST_GAMMA_T) / g]) / dt) * dt)
    curve_times = np.concatenate([[0.0], np.geomspace(0.005, 10.0, ctx.pick(12, 30)) / g])
    n_jobs = max(1, min(ctx.jobs, 16))
    seeds = np.array_split(np.arange(n_networks), n_jobs)
    allowance_a = VAR_ALLOWANCE / width
    ctx.params.update(config=CFG.as_dict(), task=ds.name, width=width, dt=dt, n_networks=n_networks,
                      variance_allowance=allowance_a, antithetic=False)
    work = [(_theory, (ds, sim_times)), (_theory, (ds, curve_times))]
    work += [(_networks, (ds, width, dt, sim_times, s)) for s in seeds]
    out = ctx.map(call, work, desc="theory + independent networks")
    th, curve, f = out[0], out[1], np.concatenate(out[2:])           # f: (n_networks, n_times, P)
    y = ds.y_train
    frac = np.mean(y * f > 0, axis=0)                                 # (n_times, P)
    p = {k: p_correct(y, th["mean"], th[v]) for k, v in (("theory", "var"), ("prior", "prior_var"),
                                                          ("gradient flow", "flow_var"))}
    allow = phi_allowance(y, th["mean"], th["var"], allowance_a)
    z = {k: binomial_z(frac, v, n_networks, allow) for k, v in p.items()}
    late = sim_times >= 1.0 / g
    ctx.data("drift_networks", sim_times=sim_times, fraction_correct=frac, networks=f, y_train=y,
             **{f"p[{k}]": v for k, v in p.items()}, curve_times=curve["times"], curve_mean=curve["mean"],
             curve_var=curve["var"], curve_flow_var=curve["flow_var"])
    ctx.table("drift_networks", [{"t": t, "gamma_t": g * t, "point": mu, "label": y[mu], "fraction_correct": frac[i, mu],
                                  "p_theory": p["theory"][i, mu], "p_prior_sd": p["prior"][i, mu],
                                  "p_flow_sd": p["gradient flow"][i, mu], "z_theory": z["theory"][i, mu]}
                                 for i, t in enumerate(sim_times) for mu in range(y.size)])
    zt = np.abs(z["theory"])
    ctx.claim("single-network-accuracy-matches-phi",
              "the fraction of independent networks that classify each training point correctly is "
              "Phi(y fbar / sd) with the ensemble covariance along the trajectory",
              bool(zt.max() < 4.0),
              {"max_|z|": float(zt.max()), "rms_z": float(np.sqrt(np.mean(z["theory"] ** 2))),
               "max_|frac - p|": float(np.max(np.abs(frac - p["theory"]))),
               "p_range_late": [float(p["theory"][late].min()), float(p["theory"][late].max())],
               "networks": n_networks, "width": width, "comparisons": int(zt.size),
               "theory_error_estimate": float(th["error_estimate"])},
              f"|frac - p| < 4 (binomial se + allowance) at every recorded time and training point "
              f"(allowance: Phi moved by a relative {allowance_a:.3g} on the variance)")
    for key, name in (("prior", "foil-prior-sd-fails"), ("gradient flow", "foil-gradient-flow-sd-fails")):
        zf = np.abs(z[key])
        ctx.claim(name, f"foil: with the sd of the {key} instead, the same test fails",
                  bool(zf.max() > 4.0),
                  {"max_|z|": float(zf.max()), "max_|frac - p_foil|": float(np.max(np.abs(frac - p[key])))},
                  "max |z| > 4 (the test can tell)")
    _plot(ctx, curve, sim_times, frac, p, y, width, n_networks)


def _plot(ctx, curve, sim_times, frac, p, y, width, n_networks):
    g = CFG.gamma
    nh = len(HIST_GAMMA_T)
    fig, ax = plotting.panels(1, nh + 2, width=2.5, height=2.6)
    bins = np.linspace(0.4, 1.0, 13)
    for j, gt in enumerate(HIST_GAMMA_T):
        a = ax[0, j]
        i = int(np.argmin(np.abs(sim_times - gt / g)))
        a.hist(p["theory"][i], bins=bins, color="C0", alpha=0.55, label=r"theory $\Phi(y\bar f/\mathrm{sd})$")
        a.hist(frac[i], bins=bins, histtype="step", color="k", lw=1.2, label="fraction of networks")
        a.set_title(rf"$\gamma t$ = {g * sim_times[i]:.3g}", fontsize=8)
        a.set_xlabel("P(one network correct)")
        a.set_ylabel("training points" if j == 0 else "")
        if j == 0:
            a.legend(fontsize=6, loc="upper left")
    a = ax[0, nh]
    t = np.maximum(curve["times"], curve["times"][1] / 3)
    pc = p_correct(y, curve["mean"], curve["var"])
    pf = p_correct(y, curve["mean"], curve["flow_var"])
    for k, mu in enumerate((int(np.argmin(pc[-1])), int(np.argmax(pc[-1])))):
        a.plot(t, pc[:, mu], color=f"C{k}", label=rf"theory, point {mu}")
        a.plot(t, pf[:, mu], color=f"C{k}", ls=":", lw=1, label="gradient-flow sd (foil)")
        a.plot(np.maximum(sim_times, t[0]), frac[:, mu], "o", color=f"C{k}", mfc="w", ms=3.5)
    plotting.log_time(a, gamma=g)
    a.set_ylabel("P(correct)")
    a.legend(fontsize=5.5, loc="lower right")
    a = ax[0, nh + 1]
    se = np.sqrt(p["theory"] * (1 - p["theory"]) / n_networks)
    a.errorbar(p["theory"].ravel(), frac.ravel(), yerr=se.ravel(), fmt="o", ms=2.5, color="C0", lw=0.6,
               label="theory sd")
    a.plot(p["prior"].ravel(), frac.ravel(), "x", ms=2.5, color="0.55", label="prior sd (foil)")
    a.plot([0.4, 1], [0.4, 1], color="k", lw=0.7)
    a.set_xlabel(r"$\Phi(y\bar f/\mathrm{sd})$")
    a.set_ylabel("fraction of networks correct")
    a.set_title(f"{n_networks} networks, width {width}", fontsize=8)
    a.legend(fontsize=6, loc="upper left")
    fig.suptitle(f"8x8 digits {PAIR[0]} vs {PAIR[1]}, {CFG.label()}, T={CFG.T:g}: one network's accuracy per "
                 "training point", fontsize=9)
    ctx.figure(fig, "drift_networks")
