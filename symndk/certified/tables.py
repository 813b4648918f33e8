"""Published reference tables of the synthetic task: the grid, its generation and loading.

The grid (documented in ``symndk/reference_tables/README.md``): activations relu, erf, linear;
depth L = 1, 2, 3; sigma0^2 / sigma^2 in {0.25, 1, 2} with sigma^2 = 1; T = 0.1 (gamma = 0.1);
r = 0.5; probe times gamma t in {0.1, 1, 3, 10, 30}. Each configuration is one JSON file
(``<activation>_L<depth>_ratio<ratio>.json``, the :func:`symndk.certified.synthetic.as_dict` layout) and
one row per time in ``synthetic.csv``.

Example:
    >>> rows = load_table()
    >>> {r["activation"] for r in rows} <= {"relu", "erf", "linear"} and len(rows) > 0
    True
"""
from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path

ACTIVATIONS = ("relu", "erf", "linear")
DEPTHS = (1, 2, 3)
RATIOS = ("0.25", "1", "2")
SIGMA_SQ, T, R = "1", "0.1", "0.5"
GAMMA_TIMES = ("0.1", "1", "3", "10", "30")
DPS = 30
CSV_FIELDS = ("activation", "depth", "sigma0_sq", "sigma_sq", "T", "gamma", "r", "t", "g", "f_test",
              "certified_digits", "dps")


def grid():
    """The configurations of the published table (depth-major order)."""
    return [dict(activation=a, depth=L, sigma0_sq=ratio, sigma_sq=SIGMA_SQ, T=T, r=R)
            for L in DEPTHS for a in ACTIVATIONS for ratio in RATIOS]


def file_name(cfg) -> str:
    return f"{cfg['activation']}_L{cfg['depth']}_ratio{cfg['sigma0_sq']}.json"


def _times():
    gamma = float(T) / float(SIGMA_SQ)
    return [float(v) / gamma for v in GAMMA_TIMES]


def compute_entry(cfg, dps=DPS, progress=False, jobs=None):
    """Reference result (JSON dictionary) of one grid configuration (``jobs``: see :func:`reference`)."""
    from symndk.certified.synthetic import as_dict, reference

    return as_dict(reference(times=_times(), dps=dps, progress=progress, jobs=jobs, **cfg), "g", "f_test", column=True)


def trim_entry(data):
    """Cap certified digits at the working precision and round values to the certified digits."""
    import mpmath

    meta = data["meta"]
    digits = [min(int(d), int(meta["working_dps"])) for d in data["certified_digits"]]
    keep = [max(1, min(int(meta["dps"]), d)) for d in digits]
    with mpmath.workdps(int(meta["working_dps"])):
        for key in ("g", "f_test"):
            data[key] = [mpmath.nstr(mpmath.mpf(v), k, min_fixed=-mpmath.inf, max_fixed=mpmath.inf)
                         for v, k in zip(data[key], keep)]
    data["certified_digits"] = digits
    return data


def _job(args):
    cfg, outdir, dps, jobs = args
    data = trim_entry(compute_entry(cfg, dps, jobs=jobs))
    (Path(outdir) / file_name(cfg)).write_text(json.dumps(data, indent=2) + "\n")
    return file_name(cfg)


def write_csv(outdir) -> Path:
    """Collect every configuration JSON in ``outdir`` into ``synthetic.csv`` (one row per time)."""
    outdir = Path(outdir)
    rows = []
    for path in sorted(outdir.glob("*_L*_ratio*.json")):
        data = json.loads(path.read_text())
        m = data["meta"]
        for t, g, f, d in zip(data["times"], data["g"], data["f_test"], data["certified_digits"]):
            rows.append(dict(activation=m["activation"], depth=m["depth"], sigma0_sq=m["sigma0_sq"],
                             sigma_sq=m["sigma_sq"], T=m["T"], gamma=m["gamma"], r=m["r"], t=t, g=g,
                             f_test=f, certified_digits=d, dps=m["dps"]))
    path = outdir / "synthetic.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_tables(outdir, jobs=1, dps=DPS, progress=False, skip_existing=True):
    """Compute the grid into ``outdir`` (one JSON per configuration, then ``synthetic.csv``).

    With ``jobs`` > 1 configurations run in parallel worker processes (each solving its two
    certificate orders in turn); with ``jobs`` = 1 each configuration runs its two orders in parallel.
    """
    from tqdm import tqdm

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    todo = [c for c in grid() if not (skip_existing and (outdir / file_name(c)).exists())]
    args = [(c, str(outdir), dps, 1 if jobs > 1 else None) for c in todo]
    if jobs > 1:
        from multiprocessing import get_context

        with get_context("spawn").Pool(jobs) as pool:
            for _ in tqdm(pool.imap_unordered(_job, args), total=len(args), disable=not progress):
                write_csv(outdir)
    else:
        for a in tqdm(args, disable=not progress):
            _job(a)
            write_csv(outdir)
    return write_csv(outdir)


def table_dir():
    """The shipped tables folder (package data)."""
    return resources.files("symndk") / "reference_tables"


def load_table():
    """Rows of the shipped ``synthetic.csv`` as dictionaries (values as strings)."""
    path = table_dir() / "synthetic.csv"
    if not path.is_file():
        return []
    with path.open() as fh:
        return list(csv.DictReader(fh))
