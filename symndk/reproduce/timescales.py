"""Fig. 1a,b: the two learning phases and their time scales, measured on the synthetic task.

Two sweeps of the test predictor f*(t) (ReLU, L = 2):

* (a) temperature T at fixed sigma0^2 = sigma^2 = 1: the gradient phase should not move, the
  diffusive phase should slow down like 1/T;
* (b) sigma0^2 = sigma^2 = s scaled together (ratio 1) at fixed T: faster gradient phase,
  slower diffusive phase.

Phase times are *measured*, not eyeballed (:func:`symndk.reproduce.analysis.settle_time`):
``t_grad`` is when f* is half-way from 0 to the NTK equilibrium, ``t_diff`` when it is (for good)
90 % of the way from the NTK to the NNGP equilibrium.

Example (a fast rise to 1 at rate 1, then a slow drift to 2 at rate 1e-3):
    >>> t = np.geomspace(1e-3, 1e5, 4000)
    >>> f = (1 - np.exp(-t)) + (1 - np.exp(-1e-3 * t))
    >>> [round(x, 1) for x in phase_times(t, f, 1.0, 2.0)]  # ln 2 and 1000 ln 10
    [0.7, 2302.6]
"""
from __future__ import annotations

import numpy as np

from symndk.reproduce import analysis, plotting, tasks

TITLE = "paper fig. 1a,b -- gradient-driven and diffusive phases, their time scales (synthetic task)"
QUESTION = "Does T move only the diffusive phase (~1/T), and does scaling sigma0^2, sigma^2 speed the gradient phase but slow the diffusive one?"

BASE = tasks.Config("relu", 2, sigma0_sq=1.0, sigma_sq=1.0, T=1e-4)


DIFF_FRACTION = 0.9


def phase_times(times, f, ntk, nngp):
    """``(t_grad, t_diff)``: half-way 0 -> NTK equilibrium, and 90 % of the way NTK -> NNGP equilibrium.

    The diffusive time uses 90 % rather than half-way: for ReLU the kernel's sqrt(gamma |t - s|)
    cusp starts the drift away from the NTK value already during the gradient phase, so the early
    part of the diffusive phase mixes both time scales.
    """
    return (analysis.settle_time(times, f, 0.0, ntk, 0.5), analysis.settle_time(times, f, ntk, nngp, DIFF_FRACTION))


def run(ctx):
    Ts = ctx.pick([1e-4, 1e-3], [1e-5, 1e-4, 1e-3])
    scales = ctx.pick([0.5, 2.0], [0.5, 1.0, 2.0])
    n = ctx.pick(80, 160)
    ds, r = tasks.synthetic(BASE)
    configs = [("T", T, BASE.with_(T=T)) for T in Ts]
    configs += [("scale", s, BASE.with_(sigma0_sq=s, sigma_sq=s)) for s in scales]
    ctx.params.update(task=ds.name, r=r, base=BASE.as_dict(), T_values=Ts, scales=scales, n_times=n)
    t_min = 1e-3 * min(1.0, min(scales) ** -BASE.depth)
    runs = ctx.map(tasks.trajectory, [(ds, c, tasks.time_grid(c, n, t_min=t_min)) for _, _, c in configs],
                   desc="trajectories")

    rows, arrays = [], {}
    for (kind, value, cfg), res in zip(configs, runs):
        f = res["test"][:, 0]
        t_grad, t_diff = phase_times(res["times"], f, res["ntk"][0], res["nngp"][0])
        rows.append({"sweep": kind, "value": value, **cfg.as_dict(), "t_grad": t_grad, "t_diff": t_diff,
                     "gamma_t_diff": cfg.gamma * t_diff, "f_ntk": res["ntk"][0], "f_nngp": res["nngp"][0]})
        key = f"{kind}={value:g}"
        arrays[f"times[{key}]"], arrays[f"test[{key}]"], arrays[f"train[{key}]"] = res["times"], f, res["train"]
    ctx.data("timescales", **arrays)
    ctx.table("phase_times", rows)
    _plot(ctx, configs, runs, rows)
    _claims(ctx, rows)


def _claims(ctx, rows):
    tr = [r for r in rows if r["sweep"] == "T"]
    sc = [r for r in rows if r["sweep"] == "scale"]
    tg = np.array([r["t_grad"] for r in tr])
    spread = float(tg.max() / tg.min() - 1)
    ctx.claim("gradient-phase-independent-of-T",
              "the gradient-driven phase does not depend on T (paper fig. 1a)",
              spread < 0.05, {"T": [r["T"] for r in tr], "t_grad": tg, "spread": spread},
              "max/min - 1 of t_grad over T < 0.05")
    td = np.array([r["t_diff"] for r in tr])
    slope = analysis.fit_loglog_slope([r["T"] for r in tr], td)
    ctx.claim("diffusive-phase-scales-as-1/T",
              "the diffusive phase slows down in proportion to 1/T (paper fig. 1a)",
              abs(slope + 1) < 0.1, {"t_diff": td, "gamma*t_diff": [r["gamma_t_diff"] for r in tr], "slope": slope},
              "log-log slope of t_diff against T within 0.1 of -1")
    s = [r["value"] for r in sc]
    tg, td = np.array([r["t_grad"] for r in sc]), np.array([r["t_diff"] for r in sc])
    ctx.claim("scaling-speeds-gradient-phase",
              "scaling sigma0^2 and sigma^2 up together speeds up the gradient phase (paper fig. 1b)",
              bool(np.all(np.diff(tg) < 0)), {"scale": s, "t_grad": tg, "slope": analysis.fit_loglog_slope(s, tg)},
              "t_grad strictly decreasing in the scale")
    ctx.claim("scaling-slows-diffusive-phase",
              "scaling sigma0^2 and sigma^2 up together slows down the diffusive phase (paper fig. 1b)",
              bool(np.all(np.diff(td) > 0)), {"scale": s, "t_diff": td, "slope": analysis.fit_loglog_slope(s, td)},
              "t_diff strictly increasing in the scale")


def _plot(ctx, configs, runs, rows):
    fig, ax = plotting.panels(2, 2, width=4.0, height=3.0)
    for col, kind, fmt in ((0, "T", "T={:g}"), (1, "scale", r"$\sigma_0^2=\sigma^2$={:g}")):
        sel = [(c, res, row) for c, res, row in zip(configs, runs, rows) if c[0] == kind]
        cols = plotting.colours(len(sel), "plasma" if kind == "T" else "viridis")
        a = ax[0, col]
        for ((_, value, cfg), res, row), colour in zip(sel, cols):
            a.plot(res["times"], res["test"][:, 0], color=colour, label=fmt.format(value))
            for t, mk in ((row["t_grad"], "o"), (row["t_diff"], "s")):
                if np.isfinite(t):
                    a.plot([t], [np.interp(np.log(t), np.log(res["times"]), res["test"][:, 0])], mk,
                           color=colour, ms=5, mec="k", mew=0.5)
        for (_, _, row), colour in zip(sel, cols):
            a.axhline(row["f_ntk"], color=colour, **plotting.NTK_STYLE)
            a.axhline(row["f_nngp"], color=colour, **plotting.NNGP_STYLE)
        a.plot([], [], color="k", label="NTK equilibrium", **plotting.NTK_STYLE)
        a.plot([], [], color="k", label="NNGP equilibrium", **plotting.NNGP_STYLE)
        plotting.log_time(a)
        a.set_ylabel(r"test predictor $\bar f(x^*, t)$")
        a.set_title(("(a) vary T" if kind == "T" else r"(b) scale $\sigma_0^2$, $\sigma^2$ together")
                    + "  (o: $t_{grad}$, s: $t_{diff}$)")
        a.legend(loc="lower right")
        b = ax[1, col]
        x = [s[2]["value"] for s in sel]
        b.loglog(x, [s[2]["t_grad"] for s in sel], "o-", label=r"$t_{grad}$ (half-way to NTK eq.)")
        b.loglog(x, [s[2]["t_diff"] for s in sel], "s-", label=r"$t_{diff}$ (90% of NTK$\to$NNGP)")
        b.set_xlabel("temperature T" if kind == "T" else r"scale $s=\sigma_0^2=\sigma^2$")
        b.set_ylabel("phase time")
        if kind == "T":
            td = np.array([s[2]["t_diff"] for s in sel])
            b.loglog(x, td[0] * x[0] / np.asarray(x), "k:", lw=1, label=r"$\propto 1/T$")
        b.legend(loc="best")
    ctx.figure(fig, "timescales")
