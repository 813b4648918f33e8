"""Markov proximal learning (docs/theory.md §D): finite lambda against its Langevin limit.

Synthetic task (docs/theory.md §10, P = 4, r = 0.6), erf, L = 1, sigma0^2 = 2, sigma^2 = 1,
T = 0.05 (beta = 1/(2T) = 10, kappa = 0.05), through the public API (``NDK.predict_proximal``,
``NDK.proximal_equilibrium``, ``NDK.predict``):

(a) test-predictor trajectories for lambda in {0.5, 1, 2, 8, inf} at the same Langevin time
    t = n / lambda (inf: ``NDK.predict``); claim: the MPL - Langevin gap at t = 1 falls like
    1/lambda (log-log slope over lambda = 8..64 within 0.1 of -1);
(b) the finite-lambda equilibrium (k0 + k1)^T (K0 + K1 + I/beta)^{-1} Y against the NNGP
    equilibrium as kappa/lambda grows; claims: the long-time MPL trajectory reaches it, and the
    shift from the NNGP solution is O(kappa/lambda) (slope within 0.1 of 1) yet not zero;
(c) a learning-rate schedule lambda_n (a decaying rate 1/lambda_n); claim: at small T it is the
    implicit-Euler NTK product prod_k (I + K/lambda_k)^{-1} Y to O(T) (error ratio 2 +- 0.3 when T
    halves).

and two continuous-time schedules (docs/theory.md §E, ``NDK.predict(T_schedule=, eta_schedule=)``):

(d) a learning-rate warm-up and decay eta(t); claim: the two-time solve with the force weighted by
    eta(s) equals the constant-rate predictor at the mapped time tau = int eta, to 1e-8;
(e) temperature annealing T: 1 -> 0.01 over t = 5; claims: a finite-width Langevin ensemble with the
    same schedule agrees with the scheduled theory within 4 SE + 0.005 (finite width), and the
    long-time identity fails there: the end point is not the NNGP equilibrium at the final T.

Example:
    >>> round(_slope([8, 16], [0.02, 0.01]), 6)
    -1.0
"""
from __future__ import annotations

import numpy as np

from symndk.reproduce import plotting

TITLE = "Markov proximal learning (paper v1): finite lambda vs the Langevin limit"
QUESTION = "How far is MPL at finite lambda from Langevin dynamics, in its trajectory and its equilibrium?"
NET = dict(activation="erf", depth=1, sigma0_sq=2.0, sigma_sq=1.0)
T = 0.05


def _slope(x, y):
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def run(ctx):
    import symndk

    d = symndk.data.synthetic(P=4, r=0.6)
    net = symndk.Network(**NET)
    ndk = symndk.NDK(net, d.X_train, d.y_train, T=T)
    t_end = ctx.pick(300.0, 600.0)                 # gamma t_end = 15 (30): equilibrated
    lams = [0.5, 1.0, 2.0, 8.0]
    ctx.params.update(task="synthetic P=4 r=0.6", T=T, lams=lams, t_end=t_end, **NET)
    traj = {}
    for lam in lams:
        n_end = int(round(t_end * lam))
        steps = np.unique(np.concatenate([np.arange(0, min(n_end, 40) + 1),
                                          np.geomspace(1, n_end, 80).astype(int)]))
        res = ndk.predict_proximal(steps, lam, d.X_test)
        traj[lam] = (steps / lam, res.test[:, 0], res.error_estimate)
    times = np.geomspace(1e-2, t_end, 80)
    lang = ndk.predict(times, d.X_test, rtol=1e-10)
    ctx.data("proximal_trajectories", **{f"t[lam={k:g}]": v[0] for k, v in traj.items()},
             **{f"test[lam={k:g}]": v[1] for k, v in traj.items()}, t_langevin=times, test_langevin=lang.test[:, 0])
    # (a) order of the lambda -> inf limit at t = 1
    at1 = ndk.predict([1.0], d.X_test, rtol=1e-12).test[0, 0]
    big = [8.0, 16.0, 32.0, 64.0]
    gaps = [abs(ndk.predict_proximal([int(lam)], lam, d.X_test).test[0, 0] - at1) for lam in big]
    slope = _slope(big, gaps)
    ctx.claim("mpl-to-langevin-order-1", "MPL at t = n/lambda tends to the Langevin predictor with error O(1/lambda)",
              abs(slope + 1) < 0.1, {"slope": round(slope, 4), **{f"gap[lam={lam:g}]": g for lam, g in zip(big, gaps)}},
              "log-log slope of |f_MPL - f_Langevin| at t = 1 over lambda = 8..64 within 0.1 of -1")
    # (b) equilibrium shift
    nngp = ndk.equilibrium("nngp", d.X_test).test[0, 0]
    eq_lams = np.geomspace(0.01, 256.0, ctx.pick(10, 20))
    eqs = np.array([ndk.proximal_equilibrium(lam, d.X_test).test[0, 0] for lam in eq_lams])
    shift = np.abs(eqs - nngp)
    kappa = T / NET["sigma_sq"]
    small = eq_lams >= 16
    eq_slope = _slope(kappa / eq_lams[small], shift[small])
    reach = max(abs(traj[lam][1][-1] - ndk.proximal_equilibrium(lam, d.X_test).test[0, 0]) for lam in (0.5, 1.0))
    ctx.table("proximal_equilibria", [{"lambda": float(lam), "kappa_over_lambda": float(kappa / lam),
                                       "equilibrium": float(e), "nngp": float(nngp)} for lam, e in zip(eq_lams, eqs)])
    ctx.claim("mpl-equilibrium-reached", "the long-time MPL trajectory reaches (k0+k1)^T (K0+K1+I/beta)^{-1} Y",
              reach < 1e-6, {"max |f(n_end) - f_eq|": reach}, "at lambda = 0.5 and 1, |f - f_eq| < 1e-6 at the last step")
    ctx.claim("mpl-equilibrium-shift-O(kappa/lambda)",
              "the finite-lambda equilibrium is not the NNGP posterior; the shift is O(kappa/lambda)",
              abs(eq_slope - 1) < 0.1 and shift[0] > 1e-3,
              {"slope": round(eq_slope, 4), "shift[lam=0.01]": float(shift[0]), "shift[lam=256]": float(shift[-1])},
              "log-log slope of |f_eq - f_NNGP| against kappa/lambda (lambda >= 16) within 0.1 of 1, shift > 1e-3 at lambda = 0.01")
    # (c) learning-rate schedule at small T against the implicit-Euler NTK product
    sched = np.concatenate([np.full(5, 0.5), np.full(5, 2.0), np.full(10, 8.0)])
    K = net.ntk_kernel(d.X_train).train
    r = d.y_train.copy()
    for lk in sched:
        r = np.linalg.solve(np.eye(len(r)) + K / lk, r)
    errs = []
    for Ts in (2e-4, 1e-4):
        small_T = symndk.NDK(net, d.X_train, d.y_train, T=Ts)
        errs.append(float(np.max(np.abs(small_T.predict_proximal([sched.size], sched, d.X_test).train[0]
                                        - (d.y_train - r)))))
    ratio = errs[0] / errs[1]
    sched_res = ndk.predict_proximal(np.arange(sched.size + 1), sched, d.X_test)
    ctx.claim("mpl-schedule-T0-limit", "a lambda_n schedule tends to the implicit-Euler NTK product as T -> 0, at O(T)",
              abs(ratio - 2) < 0.3, {"err[T=2e-4]": errs[0], "err[T=1e-4]": errs[1], "ratio": round(ratio, 4)},
              "error ratio 2 +- 0.3 when T halves")
    lr = _learning_rate(ctx, ndk, d)
    anneal = _anneal(ctx, net, d)
    _plot(ctx, traj, times, lang.test[:, 0], eq_lams, shift, kappa, sched_res, nngp, lr, anneal)


ETA = ([0.0, 2.0, 20.0, 60.0], [0.1, 2.0, 0.5, 0.5])      # warm-up to 2, decay to 0.5
ANNEAL = ([0.0, 5.0], [1.0, 0.01])                         # T from 1 to 0.01 over t = 5
ALLOWANCE = 0.005                                          # finite-width bias (width 256), docs/theory.md §13


def _learning_rate(ctx, ndk, d):
    """(d) eta(t) as a change of time: two-time solve with eta(s) vs the constant rate at tau(t)."""
    times = np.geomspace(0.05, 60.0, 60)
    direct = ndk.predict(times, d.X_test, T_schedule=T, eta_schedule=ETA)
    mapped_t = ndk.predict(times, d.X_test, eta_schedule=ETA)          # the clock tau = int eta
    mapped = ndk.predict(mapped_t.tau, d.X_test)
    const = ndk.predict(times, d.X_test)
    gap = float(max(np.max(np.abs(direct.test - mapped.test)), np.max(np.abs(direct.train - mapped.train))))
    foil = float(np.max(np.abs(const.test - direct.test)))
    ctx.data("proximal_learning_rate", t=times, tau=mapped_t.tau, test_schedule=direct.test[:, 0],
             test_constant_rate=const.test[:, 0])
    ctx.claim("lr-schedule-change-of-time",
              "a learning rate eta(t) is a change of time: the two-time solve with the force weighted by eta(s) "
              "equals the constant-rate predictor at tau = int eta",
              gap < 1e-8 and foil > 1e-2,
              {"max |f_eta(t) - f(tau(t))|": gap, "estimates": [direct.error_estimate, mapped.error_estimate],
               "max |f_eta(t) - f(t)| (foil)": foil},
              "gap < 1e-8 over t in (0, 60] (train and test), and the unmapped constant-rate predictor differs by > 1e-2")
    return times, direct.test[:, 0], const.test[:, 0]


def _anneal(ctx, net, d):
    """(e) T: 1 -> 0.01 over t = 5 against a finite-width Langevin ensemble; foil: the NNGP equilibrium."""
    import symndk

    t_end = ANNEAL[0][-1]
    ndk = symndk.NDK(net, d.X_train, d.y_train, T=ANNEAL[1][-1])
    times = np.linspace(0.0, t_end, 51)[1:]
    th = ndk.predict(times, d.X_test, T_schedule=ANNEAL)
    rec = [t_end / 2, t_end]
    width, n_net = ctx.pick(256, 512), ctx.pick(100, 400)
    sim = ndk.simulate(width=width, n_networks=n_net, times=rec, X_test=d.X_test, dt=0.01, seed=5, progress=False,
                       T_schedule=ANNEAL)
    th_rec = ndk.predict(rec, d.X_test, T_schedule=ANNEAL)
    nngp = float(ndk.equilibrium("nngp", d.X_test).test[0, 0])
    const = ndk.predict(times, d.X_test)                     # the final T from the start
    excess = [float(np.max(np.abs(a - b) - 4 * se)) for a, b, se in
              ((sim.train, th_rec.train, sim.train_se), (sim.test, th_rec.test, sim.test_se))]
    end, se_end = float(sim.test[-1, 0]), float(sim.test_se[-1, 0])
    ctx.data("proximal_anneal", t=times, test_schedule=th.test[:, 0], test_constant_final_T=const.test[:, 0],
             t_sim=np.asarray(rec), test_sim=sim.test[:, 0], test_sim_se=sim.test_se[:, 0], nngp_final_T=nngp)
    ctx.claim("anneal-matches-simulation",
              "the scheduled theory (T from 1 to 0.01 over t = 5) matches a finite-width Langevin ensemble with the "
              "same schedule",
              max(excess) <= ALLOWANCE,
              {"max(|sim - theory| - 4 SE)": max(excess), "sim end": end, "se": se_end,
               "theory end": float(th_rec.test[-1, 0]), "width": width, "networks": n_net},
              f"|sim - theory| <= 4 SE + {ALLOWANCE} at t = 2.5 and 5, train and test")
    foil = abs(end - nngp) - 4 * se_end - ALLOWANCE
    ctx.claim("anneal-long-time-identity-fails",
              "the end point of the anneal is a new prediction: not the NNGP equilibrium at the final temperature",
              foil > 0.05 and abs(float(th_rec.test[-1, 0]) - nngp) > 0.05,
              {"|sim end - NNGP(T_final)|": abs(end - nngp), "|theory end - NNGP(T_final)|":
               abs(float(th_rec.test[-1, 0]) - nngp), "margin beyond 4 SE + allowance": foil},
              "the simulated end point misses the NNGP equilibrium at T = 0.01 by > 4 SE + allowance + 0.05")
    return times, th.test[:, 0], const.test[:, 0], np.asarray(rec), sim.test[:, 0], sim.test_se[:, 0], nngp


def _plot(ctx, traj, times, lang, eq_lams, shift, kappa, sched_res, nngp, lr, anneal):
    fig, ax = plotting.panels(1, 5, width=4.0, height=3.0)
    a = ax[0, 0]
    for (lam, (t, f, _)), col in zip(traj.items(), plotting.colours(len(traj), "viridis")):
        a.plot(t[1:], f[1:], ".-", ms=2.5, lw=0.8, color=col, label=rf"$\lambda$={lam:g}")
    a.plot(times, lang, "k-", lw=1.2, label=r"$\lambda=\infty$ (Langevin)")
    a.axhline(nngp, color="grey", ls=":", lw=0.8, label="NNGP equilibrium")
    plotting.log_time(a)
    a.set_ylabel(r"test predictor $\bar f(x^*, t = n/\lambda)$")
    a.set_title("(a) MPL at the same Langevin time")
    a.legend(fontsize=6.5, loc="lower right")
    b = ax[0, 1]
    b.loglog(kappa / eq_lams, shift, "o-", ms=3)
    b.set_xlabel(r"$\kappa/\lambda$")
    b.set_ylabel(r"$|f_{eq}(\lambda) - f_{NNGP}|$")
    b.set_title("(b) equilibrium shift from the NNGP posterior")
    c = ax[0, 2]
    c.plot(sched_res.t, sched_res.test[:, 0], "o-", ms=3)
    c.set_xlabel(r"Langevin time $\sum_k 1/\lambda_k$")
    c.set_ylabel("test predictor")
    c.set_title(r"(c) schedule $\lambda_n$ = 0.5 (5), 2 (5), 8 (10)")
    e = ax[0, 3]
    t_lr, f_lr, f_const = lr
    e.plot(t_lr, f_lr, "-", label=r"$\eta(t)$: warm-up 0.1$\to$2, decay to 0.5")
    e.plot(t_lr, f_const, "k--", lw=1.0, label=r"constant $\eta = 1$")
    plotting.log_time(e)
    e.set_ylabel("test predictor")
    e.set_title(r"(d) learning-rate schedule = change of time")
    e.legend(fontsize=6.5, loc="lower right")
    g = ax[0, 4]
    t_a, f_a, f_c, t_s, f_s, se_s, nn = anneal
    g.plot(t_a, f_a, "-", label=r"theory, $T$: 1$\to$0.01")
    g.plot(t_a, f_c, "k--", lw=1.0, label=r"constant $T$ = 0.01")
    g.errorbar(t_s, f_s, yerr=4 * se_s, fmt="o", ms=4, capsize=3, label=r"Langevin ensemble ($\pm$4 SE)")
    g.axhline(nn, color="grey", ls=":", lw=1.2, label="NNGP equilibrium at $T$ = 0.01")
    g.set_xlabel("time $t$")
    g.set_ylabel("test predictor")
    g.set_title("(e) temperature annealing")
    g.legend(fontsize=6.5, loc="lower right")
    ctx.figure(fig, "proximal")
