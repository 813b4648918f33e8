"""SI figs. 1 and 7 (paper SI B.5): temporal correlation of the readout and the hidden layers during learning.

g(x; t_a, t_w) = <a(t_a) . phi(h_L(x; Theta(t_w)))> / sqrt(N_L) pairs the readout of time t_a
with the hidden weights of time t_w (docs/theory.md §8); g(x; t, t) is the mean predictor.
With the readout taken at a fixed time t_a = t0 just after the gradient phase and the hidden
weights at later times t_w = t, the reproduction compares g with the predictor fbar(x, t) itself
and with the drift predictor (readout frozen at t0 and *no* learning signal on the hidden
weights, docs/theory.md §7), for a large and a small ratio sigma0^2/sigma^2.

Paper: for a large ratio g follows the predictor for a long time although a is frozen (learning
acts mostly on the hidden layers); for a small ratio it decays almost exponentially, like the
drift predictor without any learning signal (learning acts mostly on the readout).

Example:
    >>> t = np.array([1.0, 2.0, 4.0, 8.0])
    >>> tracking_time(t, np.array([1.0, 0.97, 0.8, 0.5]), np.array([1.0, 1.0, 1.0, 1.0]), tol=0.1)
    2.0
"""
from __future__ import annotations

import numpy as np

from symndk.reproduce import plotting, tasks

TITLE = "paper SI figs. 1 and 7 (SI B.5) -- temporal correlation of readout and hidden weights"
QUESTION = "With the readout frozen in time, does learning in the hidden layers keep the output aligned?"

SIGMA_SQ = 1.0
T = 1e-3
RATIOS = (4.0, 0.25)  # large, small
T0_GAMMA = 0.02  # readout time t0 in units of 1/gamma (after the gradient phase)


def tracking_time(times, g, f, tol=0.1):
    """Last time up to which |g - f| <= tol |f| holds continuously from the first sample."""
    ok = np.abs(np.asarray(g) - np.asarray(f)) <= tol * np.abs(np.asarray(f))
    bad = np.flatnonzero(~ok)
    return float(times[-1] if bad.size == 0 else times[max(bad[0] - 1, 0)])


def _kw(cfg):
    return dict(activation=cfg.activation, depth=cfg.depth, sigma0_sq=cfg.sigma0_sq, sigma_sq=cfg.sigma_sq, T=cfg.T)


def _job(kind, ds, cfg, t0, times):
    """One unit of parallel work: the predictor, the drift curve, or one correlation g(t_a, t_w)."""
    import symndk

    if kind == "predict":
        return np.asarray(symndk.predict(ds.X_train, ds.y_train, ds.X_test, times=times, rtol=tasks.RTOL,
                                         **_kw(cfg)).test)[:, 0]
    if kind == "drift":
        return np.asarray(symndk.drift(ds.X_train, ds.y_train, ds.X_test, t0=t0, times=times, **_kw(cfg)).test)[:, 0]
    t_a, t_w = times
    return float(np.asarray(symndk.temporal_correlation(ds.X_train, ds.y_train, ds.X_test, t_a=t_a, t_w=t_w,
                                                        **_kw(cfg)).test)[0, 0])


def run(ctx):
    acts = ctx.pick(["relu"], ["relu", "erf"])
    n = ctx.pick(6, 16)
    ref = tasks.Config("relu", 2, SIGMA_SQ, SIGMA_SQ, T)
    ds, r = tasks.synthetic(ref)
    t0 = T0_GAMMA / ref.gamma
    times = t0 * np.geomspace(1.0, 10.0 / T0_GAMMA, n)
    check = times[[n // 2, -1]]  # g(t, t) = fbar(t) is checked at these times
    cfgs = [tasks.Config(a, 2, q * SIGMA_SQ, SIGMA_SQ, T) for a in acts for q in RATIOS]
    ctx.params.update(task=ds.name, r=r, t0=t0, ratios=list(RATIOS), activations=acts, T=T, sigma_sq=SIGMA_SQ,
                      n_times=n)
    work = []
    for ci, cfg in enumerate(cfgs):
        work += [(ci, "predict", (ds, cfg, t0, times)), (ci, "drift", (ds, cfg, t0, times))]
        work += [(ci, "g", (ds, cfg, t0, (t0, t))) for t in times]
        work += [(ci, "diag", (ds, cfg, t0, (t, t))) for t in check]
    out = ctx.map(_job, [("g" if kind == "diag" else kind, *args) for _, kind, args in work], desc="correlations")
    runs = [{"times": times, "g": [], "diag": []} for _ in cfgs]
    for (ci, kind, _), val in zip(work, out):
        if kind in ("g", "diag"):
            runs[ci][kind].append(val)
        else:
            runs[ci]["f" if kind == "predict" else "drift"] = val
    rows = []
    for cfg, res in zip(cfgs, runs):
        res["g"], res["diag"] = np.array(res["g"]), np.array(res["diag"])
        f_check = np.interp(check, times, res["f"])
        tt = tracking_time(times, res["g"], res["f"])
        scale = np.max(np.abs(res["f"]))
        rows.append({**cfg.as_dict(), "t0": t0, "tracking_time": tt, "gamma_tracking": cfg.gamma * tt,
                     "diag_rel_err": float(np.max(np.abs(res["diag"] - f_check)) / scale),
                     "rms_g_minus_drift": float(np.sqrt(np.mean((res["g"] - res["drift"]) ** 2)) / scale)})
    ctx.data("temporal", **{f"{k}[{c.activation}|ratio={c.ratio:g}]": v for c, res in zip(cfgs, runs)
                            for k, v in res.items()})
    ctx.table("temporal", rows)
    diag = max(r["diag_rel_err"] for r in rows)
    ctx.claim("equal-time-correlation-is-the-predictor", "g(x; t, t) equals the mean predictor fbar(x, t)",
              diag < 1e-6, {"max relative difference": diag},
              "< 1e-6 (temporal_correlation and predict are separate solver routes)")
    for act in acts:
        big, small = (next(r for r in rows if r["activation"] == act and r["ratio"] == q) for q in RATIOS)
        ctx.claim(f"large-ratio-tracks-longer[{act}]",
                  "large sigma0^2/sigma^2: the correlation follows the predictor longer than for a small ratio",
                  big["tracking_time"] > small["tracking_time"],
                  {"gamma*tracking[large]": big["gamma_tracking"], "gamma*tracking[small]": small["gamma_tracking"]},
                  "tracking time (|g - f| <= 10% |f|) larger for the large ratio")
        ctx.claim(f"small-ratio-like-drift[{act}]",
                  "small sigma0^2/sigma^2: the correlation decays like the drift predictor without learning signal",
                  small["rms_g_minus_drift"] < big["rms_g_minus_drift"],
                  {"rms(g - drift)[small]": small["rms_g_minus_drift"], "rms(g - drift)[large]": big["rms_g_minus_drift"]},
                  "g closer (rms, relative to max|f|) to the drift predictor for the small ratio")
    _plot(ctx, cfgs, runs, t0)


def _plot(ctx, cfgs, runs, t0):
    acts = sorted({c.activation for c in cfgs}, key=["relu", "erf"].index)
    fig, ax = plotting.panels(len(acts), len(RATIOS), width=3.8, height=2.8)
    for cfg, res in zip(cfgs, runs):
        a = ax[acts.index(cfg.activation), RATIOS.index(cfg.ratio)]
        x = cfg.gamma * res["times"]
        a.plot(x, res["f"], color="k", label=r"predictor $\bar f(x^*, t)$")
        a.plot(x, res["g"], "o-", ms=3, color="C0", label=r"$g(x^*; t_0, t)$: readout at $t_0$, hidden at $t$")
        a.plot(x, res["drift"], color="C3", ls="--", label=r"drift: readout frozen at $t_0$, no learning")
        a.set_xscale("log")
        a.set_xlabel(r"$\gamma t$")
        a.set_ylabel("output on test point")
        a.set_title(f"{cfg.label()}, $\\sigma_0^2/\\sigma^2$={cfg.ratio:g}  ($\\gamma t_0$={cfg.gamma * t0:g})")
        a.legend(fontsize=6.5, loc="lower left")
    ctx.figure(fig, "temporal")
