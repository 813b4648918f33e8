"""``symndk simulate``: finite-width Langevin ensemble -> NPZ + JSON (and a PNG against theory).

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> a = p.parse_args(["--data", "synthetic:4,0.5", "--times", "0:2:5", "--out", "run"])
    >>> a.data, a.times, a.depth, a.antithetic
    ('synthetic:4,0.5', '0:2:5', 2, True)
"""
from __future__ import annotations

from symndk.commands._task import add_task_arguments, load_task, parse_times

HELP = "simulate a finite-width network ensemble under Langevin dynamics (mean +- SE vs theory)"


def add_arguments(parser):
    add_task_arguments(parser, T=0.1)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--dt", type=float, default=0.01)
    parser.add_argument("--times", default="0:10:21", metavar="LIST",
                        help="start:stop:num (evenly spaced) or a comma list; multiples of dt")
    parser.add_argument("--n-networks", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-antithetic", dest="antithetic", action="store_false",
                        help="plain averaging instead of antithetic pairs (a, W), (-a, W)")
    parser.add_argument("--freeze-readout-at", type=float, default=None, metavar="T0",
                        help="drift scenario: readout fixed after T0, hidden weights prior-only")
    parser.add_argument("--pairs", default=None, metavar="TA:TW,..",
                        help="temporal correlation a(t_a) . phi(h_L(t_w)) / sqrt(N_L) at these pairs")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--out", default="symndk-simulation", metavar="PREFIX",
                        help="writes PREFIX.npz and PREFIX.json (default: ./symndk-simulation)")
    parser.add_argument("--plot", metavar="PNG", help="also plot mean +- SE over the theory curve")
    parser.add_argument("--no-theory", dest="theory", action="store_false",
                        help="plot the simulation only (no symndk.predict curve)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def parse_pairs(text):
    """``ta:tw,ta:tw`` -> list of (t_a, t_w)."""
    from symndk.errors import SymndkError

    import math

    try:
        pairs = [tuple(float(v) for v in item.split(":", 1)) for item in text.split(",")]
    except ValueError:
        pairs = None
    if not pairs or any(len(p) != 2 or not all(math.isfinite(v) and v >= 0 for v in p) for p in pairs):
        raise SymndkError(f"--pairs must look like 1:2,3:3 (times >= 0), got {text!r}")
    return pairs


def _check(args) -> None:
    """Refuse bad simulation settings in one line before anything is computed."""
    from pathlib import Path

    from symndk.errors import SymndkError

    from symndk.commands.solve import check_scales

    check_scales(args)
    parse_times(args.times)
    if args.batch_size is not None and args.batch_size < 1:
        raise SymndkError(f"--batch-size must be >= 1, got {args.batch_size}")
    for path in filter(None, (args.plot, args.out)):
        folder = Path(path).parent
        if not folder.is_dir():
            raise SymndkError(f"cannot write {path}: folder {folder} does not exist")


def run(args) -> int:
    from symndk.langevin.simulator import simulate
    from symndk.results import save

    _check(args)
    X, y, Xt, name = load_task(args)
    res = simulate(X, y, Xt, args.activation, args.depth, args.width, args.sigma0_sq, args.sigma_sq, args.T,
                   args.dt, parse_times(args.times), args.n_networks, args.seed, antithetic=args.antithetic,
                   freeze_readout_at=args.freeze_readout_at,
                   pairs=parse_pairs(args.pairs) if args.pairs else None, batch_size=args.batch_size,
                   progress=not args.quiet)
    res.metadata.update(task=name, command="symndk simulate")
    npz, js = save(res, args.out)
    print(f"wrote {npz} and {js} ({res.metadata['n_units']} independent samples, "
          f"{res.metadata['elapsed_s']:.1f} s)")
    if args.plot:
        plot(res, X, y, Xt, args.plot, theory=args.theory)
        print(f"wrote {args.plot}")
    return 0


def _theory_curve(res, X, y, Xt, n=120):
    """symndk.predict on a fine grid; with a frozen readout, symndk.drift after t0."""
    import types

    import numpy as np

    import symndk

    m = res.metadata
    kw = dict(activation=m["activation"], depth=m["depth"], sigma0_sq=m["sigma0_sq"], sigma_sq=m["sigma_sq"], T=m["T"])
    t0, t_end = m["freeze_readout_at"], float(res.times.max())
    if t0 is None or t0 >= t_end:
        return symndk.predict(X, y, Xt, times=np.linspace(0.0, t_end, n), **kw)
    before = symndk.predict(X, y, Xt, times=np.linspace(0.0, t0, n // 2), **kw) if t0 > 0 else None
    after = symndk.drift(X, y, Xt, t0=t0, times=np.linspace(t0, t_end, n // 2), **kw) if t0 > 0 else None
    if after is None:  # readout frozen from the start: f stays at its initial mean, zero
        return None
    parts = [before, after]
    return types.SimpleNamespace(times=np.concatenate([p.times for p in parts]),
                                 train=np.vstack([p.train for p in parts]), test=np.vstack([p.test for p in parts]))


def plot(res, X, y, Xt, path, theory=True, max_curves=4):
    """PNG of the ensemble mean +- SE (error bars) over the theory curve (``symndk.predict``)."""
    from symndk.errors import SymndkError

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise SymndkError("--plot needs matplotlib: pip install 'symndk[plot]'") from None
    m = res.metadata
    curve = None
    if theory:
        curve = _theory_curve(res, X, y, Xt)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
    for ax, key in zip(axes, ("train", "test")):
        mean, se = getattr(res, key), getattr(res, key + "_se")
        for j in range(min(max_curves, mean.shape[1])):
            line = ax.errorbar(res.times, mean[:, j], yerr=se[:, j], fmt="o", ms=3, capsize=2,
                               label=f"{key} {j} (simulation)")
            if curve is not None:
                ax.plot(curve.times, getattr(curve, key)[:, j], "-", color=line[0].get_color(), lw=1)
        ax.set_title(f"{key} predictor" + ("" if curve is None else " (lines: theory)"))
        ax.set_xlabel("t")
        if mean.shape[1]:
            ax.legend(fontsize=7)
    fig.suptitle(f"{m['activation']} L={m['depth']} N={m['widths'][0]} T={m['T']:g} "
                 f"sigma0^2={m['sigma0_sq']:g} sigma^2={m['sigma_sq']:g} ({m['n_units']} samples)")
    fig.tight_layout()
    from symndk.files import atomic_write

    atomic_write(path, None, writer=lambda fh: fig.savefig(fh, dpi=120, format="png"))
    plt.close(fig)
