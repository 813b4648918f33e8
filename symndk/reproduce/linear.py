"""Fig. 6: linear activation -- the NTK and NNGP equilibria differ only by O(T).

For phi(x) = x the NDK is proportional to the input kernel, so the NTK and NNGP equilibria only
differ through the ridge gamma = T / sigma^2. The reproduction (a) shows trajectories at two
temperatures (the diffusive phase barely moves the predictor) and (b) measures
|f_NNGP - f_NTK| against T on a log-log scale and fits the slope (expected 1), for depths 1-3,
on the synthetic task and on digits 4 vs 9 (few enough examples that the 64-pixel input Gram
matrix is invertible, which the NTK equilibrium of a linear network needs).

Example:
    >>> scaling_slope([1e-3, 1e-2], [2e-4, 2e-3])
    1.0
"""
from __future__ import annotations

import numpy as np

from symndk.reproduce import analysis, plotting, tasks

TITLE = "paper fig. 6 -- linear activation: NTK and NNGP equilibria differ by O(T)"
QUESTION = "Does |f_NNGP - f_NTK| scale linearly with T for a linear network?"

SIGMA_SQ = 2.0
SIGMA0_SQ = 1.0


def scaling_slope(Ts, gaps):
    """Log-log slope of the equilibrium gap against T (rounded to 6 digits)."""
    return round(analysis.fit_loglog_slope(Ts, gaps), 6)


def _datasets(ctx):
    cfg = tasks.Config("linear", 1, SIGMA0_SQ, SIGMA_SQ, 1e-3)
    synth, r = tasks.synthetic(cfg, r=0.6)
    import symndk

    dig = symndk.data.digits(4, 9, n_per_class=ctx.pick(6, 12), n_test_per_class=5)
    return [("synthetic", synth), ("digits 4 vs 9", dig)]


def run(ctx):
    Ts = [float(x) for x in ctx.pick(np.geomspace(1e-6, 1e-3, 4), np.geomspace(1e-7, 1e-3, 9))]
    depths = ctx.pick([1, 3], [1, 2, 3])
    data = _datasets(ctx)
    ctx.params.update(T_values=Ts, depths=depths, sigma_sq=SIGMA_SQ, sigma0_sq=SIGMA0_SQ,
                      tasks=[ds.name for _, ds in data])
    rows = []
    for tname, ds in data:
        for d in depths:
            for T in Ts:
                cfg = tasks.Config("linear", d, SIGMA0_SQ, SIGMA_SQ, T)
                ntk, nngp = tasks.equilibria(ds, cfg)
                gap = float(np.max(np.abs(nngp - ntk)))
                rows.append({"task": tname, **cfg.as_dict(), "max_gap": gap, "gap_over_T": gap / T})
    ctx.table("linear_gaps", rows)
    traj_T = ctx.pick([1e-2], [1e-3, 1e-2])
    cfgs = [tasks.Config("linear", 2, SIGMA0_SQ, SIGMA_SQ, T) for T in traj_T]
    runs = ctx.map(tasks.trajectory, [(data[0][1], c, tasks.time_grid(c, ctx.pick(60, 120))) for c in cfgs],
                   desc="trajectories")
    ctx.data("linear", **{f"times[T={c.T:g}]": r["times"] for c, r in zip(cfgs, runs)},
             **{f"test[T={c.T:g}]": r["test"][:, 0] for c, r in zip(cfgs, runs)},
             gaps=np.array([[r["T"], r["depth"], r["max_gap"]] for r in rows]))
    slopes = {}
    for tname, _ in data:
        for d in depths:
            sel = [r for r in rows if r["task"] == tname and r["depth"] == d]
            slopes[f"{tname}/L={d}"] = scaling_slope([r["T"] for r in sel], [r["max_gap"] for r in sel])
    small_T = rows
    worst = max(abs(s - 1) for s in slopes.values())
    ctx.claim("linear-equilibria-differ-by-O(T)",
              "for a linear activation the NTK and NNGP equilibria differ only by O(T) (paper fig. 6)",
              worst < 0.05, {**{f"slope[{k}]": v for k, v in slopes.items()},
                             "max gap/T": max(r["gap_over_T"] for r in small_T)},
              "log-log slope of max|f_NNGP - f_NTK| against T within 0.05 of 1 for every task and depth")
    _plot(ctx, data, rows, slopes, cfgs, runs, depths)


def _plot(ctx, data, rows, slopes, cfgs, runs, depths):
    fig, ax = plotting.panels(1, 2, width=4.0, height=3.0)
    a = ax[0, 0]
    for c, res, col in zip(cfgs, runs, plotting.colours(len(cfgs), "plasma")):
        a.plot(res["times"], res["test"][:, 0], color=col, label=f"T={c.T:g}")
        plotting.equilibrium_lines(a, ntk=res["ntk"][0], nngp=res["nngp"][0], color=col, label=c is cfgs[-1])
    plotting.log_time(a)
    a.set_ylabel(r"test predictor $\bar f(x^*,t)$")
    a.set_title(f"(a) synthetic task, linear L={cfgs[0].depth}: no visible diffusive phase")
    a.legend(loc="lower right")
    b = ax[0, 1]
    markers = {"synthetic": "o", "digits 4 vs 9": "s"}
    cols = dict(zip(depths, plotting.colours(len(depths))))
    for (tname, _) in data:
        for d in depths:
            sel = [r for r in rows if r["task"] == tname and r["depth"] == d]
            b.loglog([r["T"] for r in sel], [r["max_gap"] for r in sel], marker=markers[tname], color=cols[d],
                     ls="-" if tname == "synthetic" else "--", ms=4,
                     label=f"{tname}, L={d} (slope {slopes[f'{tname}/L={d}']:.3f})")
    b.set_xlabel("temperature T")
    b.set_ylabel(r"$\max_x |f_{NNGP}(x) - f_{NTK}(x)|$")
    b.set_title("(b) equilibrium gap scales like T")
    b.legend(fontsize=6.5, loc="upper left")
    ctx.figure(fig, "linear")
