"""Fig. 3: where the optimal stopping time falls, over sigma0^2/sigma^2 x depth (synthetic task).

For each (activation, depth, ratio) the test predictor f*(t) is solved and its generalisation
error e(t) = (y* - f*(t))^2 (y* = +1) minimised over time. The optimum is classified:

* ``NTK plateau`` -- at the end of the gradient phase (the NTK equilibrium is best);
* ``diffusive`` -- strictly inside the diffusive phase, better than *both* equilibria
  (the paper's "early stopping" after zero training error);
* ``NNGP`` -- at long times (nothing beats the NNGP equilibrium).

The sweep runs in parallel over configurations (``--jobs``, default all cores).

Example:
    >>> t = np.geomspace(1e-3, 1e5, 500)
    >>> f = 0.5 * (1 - np.exp(-t)) + 0.3 * np.exp(-((np.log(t) - 7) ** 2)) + 0.1 * (1 - np.exp(-t / 1e3))
    >>> classify(t, f, 1.0, ntk=0.5, nngp=0.6, gamma=1e-3)["phase"]
    'diffusive'
"""
from __future__ import annotations

import numpy as np

from symndk.reproduce import analysis, plotting, tasks

TITLE = "paper fig. 3 -- optimal (early) stopping time and generalisation error over sigma0^2/sigma^2 x depth"
QUESTION = "When does the best generalisation occur inside the diffusive phase, before the NNGP equilibrium?"

SIGMA_SQ = 1.0
T = 1e-4
GAIN_TOL = 1e-3  # relative improvement over the best equilibrium that counts as early stopping
PHASES = ("NTK plateau", "diffusive", "NNGP")


def classify(times, f, y, ntk, nngp, gamma):
    """Optimal stopping point of one test-predictor curve and which phase it falls in.

    Returns a dict with ``t_opt``, ``gamma_t_opt``, ``err_opt``, ``err_ntk``, ``err_nngp``,
    ``gain`` (relative improvement of the optimum over the better equilibrium) and ``phase``.
    """
    err = (y - np.asarray(f, float)) ** 2
    i, t_opt = analysis.optimal_stopping(times, err)
    e_ntk, e_nngp = (y - ntk) ** 2, (y - nngp) ** 2
    best_eq = min(e_ntk, e_nngp)
    gain = float((best_eq - err[i]) / best_eq) if best_eq > 0 else 0.0
    t_plateau = analysis.settle_time(times, f, 0.0, ntk, 0.9)
    if gain > GAIN_TOL and t_opt > t_plateau:
        phase = "diffusive"
    elif e_ntk < e_nngp:
        phase = "NTK plateau"
    else:
        phase = "NNGP"
    return {"t_opt": t_opt, "gamma_t_opt": gamma * t_opt, "err_opt": float(err[i]), "err_ntk": float(e_ntk),
            "err_nngp": float(e_nngp), "gain": gain, "phase": phase}


def run(ctx):
    acts = ctx.pick(["relu"], ["relu", "erf"])
    ratios = [float(x) for x in ctx.pick(np.geomspace(0.1, 10, 4), np.geomspace(0.05, 20, 7))]
    depths = ctx.pick([1, 3], [1, 2, 3, 4])
    n = ctx.pick(80, 150)
    ds, r = tasks.synthetic(tasks.Config("relu", 2, SIGMA_SQ, SIGMA_SQ, T))
    ctx.params.update(task=ds.name, r=r, activations=acts, ratios=ratios, depths=depths, sigma_sq=SIGMA_SQ, T=T,
                      gain_tol=GAIN_TOL, n_times=n)
    cfgs = [tasks.Config(a, d, q * SIGMA_SQ, SIGMA_SQ, T) for a in acts for d in depths for q in ratios]
    runs = ctx.map(tasks.trajectory, [(ds, c, tasks.time_grid(c, n)) for c in cfgs], desc="sweep")
    rows, arrays = [], {}
    for cfg, res in zip(cfgs, runs):
        f = res["test"][:, 0]
        rows.append({**cfg.as_dict(), **classify(res["times"], f, ds.y_test[0], res["ntk"][0], res["nngp"][0], cfg.gamma)})
        tag = f"{cfg.activation}|L={cfg.depth}|ratio={cfg.ratio:.4g}"
        arrays[f"times[{tag}]"], arrays[f"test[{tag}]"] = res["times"], f
    ctx.data("early_stopping", **arrays)
    ctx.table("early_stopping", rows)
    _plot(ctx, rows, acts, ratios, depths)
    _claims(ctx, rows, ratios, depths)


def _grid(rows, act, ratios, depths, key):
    look = {(r["depth"], r["ratio"]): r[key] for r in rows if r["activation"] == act}
    return np.array([[look[(d, q)] for q in ratios] for d in depths], dtype=object)


def _claims(ctx, rows, ratios, depths):
    diff = [r for r in rows if r["phase"] == "diffusive"]
    ctx.claim("early-stopping-in-diffusive-phase",
              "the optimal stopping time can fall inside the diffusive phase, beating both equilibria",
              len(diff) > 0,
              {"configs_with_diffusive_optimum": f"{len(diff)}/{len(rows)}",
               "best_gain": max((r["gain"] for r in diff), default=0.0),
               "where": [f"{r['activation']} L={r['depth']} ratio={r['ratio']:.3g}" for r in diff][:6]},
              f"at least one configuration with an interior optimum better than both equilibria by > {GAIN_TOL:g}")
    relu = [r for r in rows if r["activation"] == "relu"]
    small = [r for r in relu if r["ratio"] <= 1.0]
    large = [r for r in relu if r["ratio"] > 1.0]
    f_small = np.mean([r["phase"] == "diffusive" for r in small]) if small else 0.0
    f_large = np.mean([r["phase"] == "diffusive" for r in large]) if large else 0.0
    ctx.claim("early-stopping-needs-small-ratio",
              "diffusive-phase early stopping occurs for small sigma0^2/sigma^2 and not for large (ReLU)",
              f_small > f_large,
              {"fraction_diffusive[ratio<=1]": f_small, "fraction_diffusive[ratio>1]": f_large},
              "fraction of configurations with a diffusive-phase optimum larger for ratio <= 1 than for ratio > 1")
    q0 = min(ratios)
    times = [r["gamma_t_opt"] for d in depths for r in relu if r["depth"] == d and r["ratio"] == q0 and r["phase"] == "diffusive"]
    ok = len(times) >= 2 and bool(np.all(np.diff(times) > 0))
    ctx.claim("early-stopping-earlier-when-shallower",
              "at small sigma0^2/sigma^2 the early-stopping time occurs earlier in shallower networks (ReLU)",
              ok, {"ratio": q0, "gamma*t_opt by depth (diffusive optima only)": times},
              "gamma t_opt strictly increasing with depth over >= 2 depths with a diffusive optimum")


def _plot(ctx, rows, acts, ratios, depths):
    import matplotlib
    from matplotlib.colors import LogNorm

    fig, ax = plotting.panels(len(acts), 2, width=4.6, height=0.55 * len(depths) + 1.4)
    x = np.arange(len(ratios))
    for i, act in enumerate(acts):
        gt = _grid(rows, act, ratios, depths, "gamma_t_opt").astype(float)
        err = _grid(rows, act, ratios, depths, "err_opt").astype(float)
        phase = _grid(rows, act, ratios, depths, "phase")
        at_eq = phase == "NNGP"
        for j, (data, cmap, lab) in enumerate(((np.ma.masked_where(at_eq, gt), "magma",
                                                r"optimal stopping time $\gamma\,t_{opt}$"),
                                               (err, "viridis", r"test error $(1-\bar f)^2$ at $t_{opt}$"))):
            a = ax[i, j]
            cm = matplotlib.colormaps[cmap].copy()
            cm.set_bad("0.85")
            vals = np.ma.compressed(data) if np.ma.isMaskedArray(data) else data.ravel()
            vals = vals[vals > 0]
            norm = LogNorm(vmin=vals.min(), vmax=vals.max()) if vals.size and vals.max() > vals.min() else None
            im = a.imshow(data, origin="lower", aspect="auto", cmap=cm, norm=norm)
            fig.colorbar(im, ax=a, label=lab)
            for di in range(len(depths)):
                for qi in range(len(ratios)):
                    ph = phase[di, qi]
                    if j == 0:
                        txt = {"diffusive": f"{gt[di, qi]:.2g}*", "NTK plateau": "NTK", "NNGP": "eq."}[ph]
                    else:
                        txt = f"{err[di, qi]:.3f}" + ("*" if ph == "diffusive" else "")
                    rgba = (0.85, 0.85, 0.85) if np.ma.is_masked(data[di, qi]) else im.cmap(im.norm(data[di, qi]))
                    light = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] > 0.5
                    a.text(qi, di, txt, ha="center", va="center", fontsize=6.5, color="k" if light else "w")
            a.set_xticks(x, [f"{q:.2g}" for q in ratios], rotation=45)
            a.set_yticks(np.arange(len(depths)), [str(d) for d in depths])
            a.set_xlabel(r"$\sigma_0^2/\sigma^2$")
            a.set_ylabel("depth L")
            a.grid(False)
            a.set_title(f"{tasks.ACT_LABEL[act]}: " + ("(a) when to stop" if j == 0 else "(b) best test error")
                        + "  (*: inside the diffusive phase; eq.: at NNGP)", fontsize=8)
    ctx.figure(fig, "early_stopping")
