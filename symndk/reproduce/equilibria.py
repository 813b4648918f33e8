"""Paper sections 4, 4.2 and SI D.1: what the NTK and NNGP equilibria do, on MNIST 0 vs 1.

Claims of the paper's text that no figure panel shows, each decided from closed forms
(``symndk.ntk_equilibrium``, ``symndk.nngp_equilibrium``) and one trajectory pair
(``symndk.predict``):

* the training error is O(T): ``|y - f_train|`` at the NNGP equilibrium scales like T;
* at large T the NTK plateau disappears and the trajectory still ends at the NNGP solution;
* depth moves the equilibria in favour of the NNGP (its test error gains on the NTK's), while
  the training-set size moves both errors alike;
* the two variance parameters strongly affect performance in the two regimes, especially for
  sigmoidal neurons: for ReLU without biases the NTK predictor cannot depend on sigma0^2
  (homogeneity), for erf it does; sigma^2 moves the NNGP predictor more for erf than for ReLU.

Test errors are mean squared errors ``mean (y - f)^2`` over 100 held-out examples.

Example:
    >>> mse([1.0, -1.0], [0.5, -1.0])
    0.125
"""
from __future__ import annotations

import numpy as np

from symndk.reproduce import analysis, plotting, tasks

TITLE = "paper sections 4, 4.2, 4.4 and SI D.1 -- the NTK and NNGP equilibria (MNIST 0 vs 1)"
QUESTION = "How do T, depth, training-set size and the variances move the two equilibria?"

SIGMA_SQ = 1.0
DEPTH = 2


def mse(y, f):
    """Mean squared error."""
    return float(np.mean((np.asarray(y, float) - np.asarray(f, float)) ** 2))


def _eq(ds, cfg):
    import symndk

    kw = dict(activation=cfg.activation, depth=cfg.depth, sigma0_sq=cfg.sigma0_sq, sigma_sq=cfg.sigma_sq, T=cfg.T)
    ntk = symndk.ntk_equilibrium(ds.X_train, ds.y_train, ds.X_test, **kw)
    nngp = symndk.nngp_equilibrium(ds.X_train, ds.y_train, ds.X_test, **kw)
    return {"ntk_test": np.asarray(ntk.test, float).reshape(-1), "nngp_test": np.asarray(nngp.test, float).reshape(-1),
            "nngp_train": np.asarray(nngp.train, float).reshape(-1)}


def run(ctx):
    n_test = ctx.pick(25, 50)
    sizes = ctx.pick([10, 40], [10, 25, 50])
    depths = ctx.pick([1, 2, 4], [1, 2, 3, 4, 5])
    Ts = [float(t) for t in np.geomspace(1e-5, 1e-2, 4)]
    data = {n: tasks.image_pair(ctx, 0, 1, n_per_class=n, n_test_per_class=n_test, normalise="global")[0]
            for n in sizes}
    ds = data[sizes[-1]]
    ctx.params.update(task=ds.name, sizes=sizes, depths=depths, T_values=Ts, sigma_sq=SIGMA_SQ, n_test_per_class=n_test)
    base = tasks.Config("relu", DEPTH, SIGMA_SQ, SIGMA_SQ, 1e-3)
    rows = []
    # (1) training error O(T)
    dev = {}
    for act in ("relu", "erf"):
        dev[act] = [float(np.abs(ds.y_train - _eq(ds, base.with_(activation=act, T=T))["nngp_train"]).max()) for T in Ts]
        rows += [{"check": "train-O(T)", "activation": act, "T": T, "max|y-f_train|": v} for T, v in zip(Ts, dev[act])]
    slopes = {a: analysis.fit_loglog_slope(Ts, v) for a, v in dev.items()}
    ctx.claim("training-error-O(T)", "the training error is O(T) (paper section 4)",
              all(abs(s - 1) < 0.1 for s in slopes.values()),
              {**{f"slope[{a}]": s for a, s in slopes.items()},
               **{f"max|y - f_train| at T={Ts[-1]:g} [{a}]": v[-1] for a, v in dev.items()}},
              "log-log slope of max|y - f_train(NNGP equilibrium)| against T within 0.1 of 1 (ReLU and erf, L=2)")
    # (2) large T: no NTK plateau, still ends at the NNGP solution
    synth, r = tasks.synthetic(base)
    traj_T = (1e-4, 0.3)
    cfgs = [base.with_(T=T) for T in traj_T]
    runs = ctx.map(tasks.trajectory, [(synth, c, np.geomspace(1e-3, 300 / c.gamma, 200)) for c in cfgs],
                   desc="trajectories")
    plateau, end_err = {}, {}
    for c, res in zip(cfgs, runs):
        f = res["test"][:, 0]
        gap = abs(res["ntk"][0] - res["nngp"][0])
        plateau[c.T] = float(np.min(np.abs(f - res["ntk"][0])) / gap)  # closest approach to the NTK value
        end_err[c.T] = float(abs(f[-1] - res["nngp"][0]) / abs(res["nngp"][0]))
    ctx.claim("large-T-no-plateau-ends-at-NNGP",
              "at large T the NTK plateau disappears and the trajectory still ends at the NNGP solution (section 4.2)",
              plateau[traj_T[0]] < 0.1 and plateau[traj_T[1]] > 0.5 and end_err[traj_T[1]] < 1e-4,
              {**{f"min_t |f - f_NTK| / |f_NTK - f_NNGP| [T={T:g}]": v for T, v in plateau.items()},
               **{f"|f(end) - f_NNGP|/|f_NNGP| [T={T:g}]": v for T, v in end_err.items()}},
              f"closest approach to the NTK value, relative to the NTK-NNGP gap: < 0.1 at T={traj_T[0]:g} (plateau "
              f"reached), > 0.5 at T={traj_T[1]:g} (no plateau); f(300/gamma) within 1e-4 of f_NNGP at T={traj_T[1]:g}")
    # (3) depth favours the NNGP; training-set size moves both alike
    gain, errs = [], {}
    for d in depths:
        e = _eq(ds, base.with_(depth=d))
        errs[d] = (mse(ds.y_test, e["ntk_test"]), mse(ds.y_test, e["nngp_test"]))
        gain.append(errs[d][0] - errs[d][1])
        rows.append({"check": "depth", "depth": d, "err_ntk": errs[d][0], "err_nngp": errs[d][1]})
    size_err = {}
    for n in sizes:
        e = _eq(data[n], base)
        size_err[n] = (mse(data[n].y_test, e["ntk_test"]), mse(data[n].y_test, e["nngp_test"]))
        rows.append({"check": "size", "n_per_class": n, "err_ntk": size_err[n][0], "err_nngp": size_err[n][1]})
    ratio_ntk = size_err[sizes[-1]][0] / size_err[sizes[0]][0]
    ratio_nngp = size_err[sizes[-1]][1] / size_err[sizes[0]][1]
    ctx.claim("depth-favours-NNGP",
              "depth moves the equilibria in favour of the NNGP (SI D.1)",
              gain[-1] > gain[0] and float(np.corrcoef(depths, gain)[0, 1]) > 0.8,
              {"depths": depths, "err_NTK - err_NNGP by depth": gain, "corr(depth, advantage)": np.corrcoef(depths, gain)[0, 1]},
              "test-error advantage of the NNGP over the NTK equilibrium larger at the deepest than the shallowest "
              "depth and correlated with depth (r > 0.8)")
    ctx.claim("size-moves-both-alike",
              "the training-set size moves both equilibria alike (SI D.1)",
              ratio_ntk < 1 and ratio_nngp < 1 and abs(np.log(ratio_ntk / ratio_nngp)) < np.log(1.5),
              {"n_per_class": sizes, "err_NTK by size": [size_err[n][0] for n in sizes],
               "err_NNGP by size": [size_err[n][1] for n in sizes], "error ratio largest/smallest [NTK]": ratio_ntk,
               "error ratio largest/smallest [NNGP]": ratio_nngp},
              "both test errors fall from the smallest to the largest training set, by factors within 1.5x of each other")
    # (4) variances: sigma0^2 moves the NTK predictor (not for ReLU), sigma^2 the NNGP predictor; more for erf
    s0s = [0.1, 1.0, 10.0]
    spread = {}
    for act in ("relu", "erf"):
        ntk_f = np.array([_eq(ds, base.with_(activation=act, sigma0_sq=s0))["ntk_test"] for s0 in s0s])
        nngp_e = [mse(ds.y_test, _eq(ds, base.with_(activation=act, sigma_sq=s, T=1e-3 * s))["nngp_test"]) for s in s0s]
        ntk_e = [mse(ds.y_test, f) for f in ntk_f]
        spread[act] = {"ntk_f": float(np.abs(ntk_f - ntk_f[1]).max() / np.abs(ntk_f[1]).max()),
                       "ntk_err": float(np.ptp(ntk_e) / np.mean(ntk_e)), "nngp_err": float(np.ptp(nngp_e) / np.mean(nngp_e))}
        rows += [{"check": "variances", "activation": act, "value": s, "err_ntk(sigma0^2)": a, "err_nngp(sigma^2)": b}
                 for s, a, b in zip(s0s, ntk_e, nngp_e)]
    ctx.claim("sigma0-moves-NTK-regime-for-erf-not-relu",
              "sigma0^2 strongly affects performance in the NTK regime, especially for sigmoidal neurons "
              "(abstract); for ReLU without biases the NTK predictor cannot depend on sigma0^2",
              spread["relu"]["ntk_f"] < 1e-10 and spread["erf"]["ntk_err"] > 0.1,
              {**{f"max rel. change of f_NTK over sigma0^2 [{a}]": v["ntk_f"] for a, v in spread.items()},
               **{f"rel. spread of NTK test error over sigma0^2 [{a}]": v["ntk_err"] for a, v in spread.items()}},
              "sigma0^2 in {0.1, 1, 10}: f_NTK unchanged to 1e-10 for ReLU; NTK test-error spread (max - min)/mean "
              "> 0.1 for erf")
    ctx.claim("sigma-moves-NNGP-regime-more-for-erf",
              "sigma^2 strongly affects performance in the NNGP regime, especially for sigmoidal neurons (abstract)",
              spread["erf"]["nngp_err"] > 0.1 and spread["erf"]["nngp_err"] > spread["relu"]["nngp_err"],
              {f"rel. spread of NNGP test error over sigma^2 [{a}]": v["nngp_err"] for a, v in spread.items()},
              "sigma^2 in {0.1, 1, 10} at fixed gamma = T/sigma^2 = 1e-3: NNGP test-error spread (max - min)/mean "
              "> 0.1 for erf and larger than for ReLU",
              note="" if spread["erf"]["nngp_err"] > spread["relu"]["nngp_err"] else
              "here sigma^2 moves the ReLU NNGP error more: the 'especially sigmoidal' part holds for the NTK "
              "regime (sigma0^2) only")
    keys = list(dict.fromkeys(k for r in rows for k in r))
    ctx.table("equilibria", [{k: r.get(k, "") for k in keys} for r in rows])
    ctx.data("equilibria", T=np.array(Ts), **{f"train_dev[{a}]": np.array(v) for a, v in dev.items()},
             depths=np.array(depths), depth_err=np.array([errs[d] for d in depths]), sizes=np.array(sizes),
             size_err=np.array([size_err[n] for n in sizes]),
             **{f"times[T={c.T:g}]": r["times"] for c, r in zip(cfgs, runs)},
             **{f"test[T={c.T:g}]": r["test"][:, 0] for c, r in zip(cfgs, runs)})
    _plot(ctx, Ts, dev, slopes, cfgs, runs, depths, errs, sizes, size_err)


def _plot(ctx, Ts, dev, slopes, cfgs, runs, depths, errs, sizes, size_err):
    mnist = "MNIST" if "MNIST" in str(ctx.params.get("data", "")) else "8x8 digits"
    fig, ax = plotting.panels(1, 4, width=3.3, height=2.8)
    a = ax[0, 0]
    for act, col in (("relu", "C0"), ("erf", "C1")):
        a.loglog(Ts, dev[act], "o-", color=col, label=f"{tasks.ACT_LABEL[act]} (slope {slopes[act]:.2f})")
    a.set_xlabel("temperature T")
    a.set_ylabel(r"max$|y - \bar f_{train}|$ (NNGP eq.)")
    a.set_title(f"(a) training error is O(T) ({mnist} 0 vs 1)", fontsize=8)
    a.legend()
    a = ax[0, 1]
    for c, res, col in zip(cfgs, runs, ("C2", "C3")):
        x = c.gamma * res["times"]
        a.plot(x, res["test"][:, 0], color=col, label=f"T={c.T:g}")
        a.axhline(res["ntk"][0], color=col, **plotting.NTK_STYLE)
        a.axhline(res["nngp"][0], color=col, **plotting.NNGP_STYLE)
    a.plot([], [], color="k", label="NTK eq.", **plotting.NTK_STYLE)
    a.plot([], [], color="k", label="NNGP eq.", **plotting.NNGP_STYLE)
    a.set_xscale("log")
    a.set_xlabel(r"$\gamma t$")
    a.set_ylabel(r"test predictor $\bar f(x^*, t)$")
    a.set_title("(b) large T: no NTK plateau (synthetic)", fontsize=8)
    a.legend(fontsize=6.5, loc="upper left")
    a = ax[0, 2]
    e = np.array([errs[d] for d in depths])
    a.plot(depths, e[:, 0], "s--", label="NTK equilibrium")
    a.plot(depths, e[:, 1], "o:", label="NNGP equilibrium")
    a.set_xlabel("depth L")
    a.set_ylabel("test MSE")
    a.set_title(f"(c) depth favours the NNGP ({mnist})", fontsize=8)
    a.legend()
    a = ax[0, 3]
    e = np.array([size_err[n] for n in sizes])
    a.plot(2 * np.array(sizes), e[:, 0], "s--", label="NTK equilibrium")
    a.plot(2 * np.array(sizes), e[:, 1], "o:", label="NNGP equilibrium")
    a.set_xlabel("training-set size P")
    a.set_ylabel("test MSE")
    a.set_title(f"(d) size moves both alike ({mnist})", fontsize=8)
    a.legend()
    ctx.figure(fig, "equilibria")
