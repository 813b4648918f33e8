"""The shipped reference tables: complete metadata, consistency with fresh low-precision solves."""
import json

import mpmath

from symndk.certified import tables as ref_tables
from symndk.certified.linear import linear_g
from symndk.certified.synthetic import reference

ROWS = ref_tables.load_table()
DIR = ref_tables.table_dir()


def _entry(activation, depth, ratio):
    path = DIR / ref_tables.file_name(dict(activation=activation, depth=depth, sigma0_sq=ratio))
    assert path.is_file(), f"{path.name} is part of the published grid and must be shipped"
    return json.loads(path.read_text())


def test_tables_shipped_with_metadata():
    assert ROWS, "synthetic.csv is shipped"
    files = sorted(p.name for p in DIR.iterdir() if p.name.endswith(".json"))
    assert len(files) >= 3
    for name in files:
        data = json.loads((DIR / name).read_text())
        meta = data["meta"]
        for key in ("activation", "depth", "sigma0_sq", "sigma_sq", "T", "gamma", "r", "dps", "method",
                    "order", "certificate_order", "symndk_version"):
            assert key in meta, (name, key)
        assert len(data["times"]) == len(data["g"]) == len(data["f_test"]) == len(ref_tables.GAMMA_TIMES)
        assert min(data["certified_digits"]) >= 10, name
        for value, digits in zip(data["g"] + data["f_test"], 2 * data["certified_digits"]):
            mant = value.lstrip("-").replace(".", "").lstrip("0")
            assert len(mant) <= min(digits, meta["dps"]), (name, value, digits)  # only certified digits shipped
        assert ref_tables.file_name(dict(activation=meta["activation"], depth=meta["depth"],
                                         sigma0_sq=meta["sigma0_sq"])) == name
    # every CSV row comes from a shipped JSON
    assert len(ROWS) == len(files) * len(ref_tables.GAMMA_TIMES)


def test_linear_table_matches_exact_ode():
    """Independent route: the linear entries against mpmath.odefun (first two probe times)."""
    data = _entry("linear", 1, "1")
    times = [float(t) for t in data["times"][:2]]
    with mpmath.workdps(45):
        exact = linear_g(1, 1, 1, ref_tables.T, times, dps=40)
        for g, e in zip(data["g"][:2], exact):
            assert abs(mpmath.mpf(g) - e) < mpmath.mpf(10) ** -(data["meta"]["dps"]) * abs(e)


def test_relu_table_recomputed_at_low_precision():
    data = _entry("relu", 1, "1")
    times = [float(t) for t in data["times"][:2]]
    res = reference("relu", depth=1, sigma0_sq=1, sigma_sq=1, T=ref_tables.T, r=ref_tables.R, times=times, dps=8)
    with mpmath.workdps(30):
        for new, old in zip(list(res.train[:, 0]) + list(res.test[:, 0]), data["g"][:2] + data["f_test"][:2]):
            assert abs(new - mpmath.mpf(old)) < 1e-8 * abs(mpmath.mpf(old))


def test_late_values_reach_the_nngp_equilibrium():
    """gamma t = 30: g no longer depends on sigma0^2 (docs/theory.md §6); linear: g = s^(2L) / (s^(2L) + gamma).

    Up to the remaining diffusive transient (~e^{-gamma t} = 1e-13), so to 1e-10.
    """
    by_cfg = {}
    for row in ROWS:
        if float(row["t"]) * float(row["gamma"]) > 29:
            by_cfg.setdefault((row["activation"], row["depth"]), []).append(row)
    assert by_cfg
    with mpmath.workdps(30):
        for (act, depth), rows in by_cfg.items():
            vals = [mpmath.mpf(r["g"]) for r in rows]
            assert max(vals) - min(vals) <= 1e-10, (act, depth)
            if act == "linear":
                k = mpmath.mpf(ref_tables.SIGMA_SQ) ** int(depth)
                gamma = mpmath.mpf(ref_tables.T) / mpmath.mpf(ref_tables.SIGMA_SQ)
                assert abs(vals[0] - k / (k + gamma)) <= 1e-10


def test_write_csv_and_trim_are_consistent(tmp_path):
    src = sorted(p for p in DIR.iterdir() if p.name.endswith(".json"))[0]
    data = json.loads(src.read_text())
    (tmp_path / src.name).write_text(json.dumps(ref_tables.trim_entry(json.loads(src.read_text()))))
    assert ref_tables.trim_entry(json.loads(json.dumps(data))) == data  # shipped entries are already trimmed
    rows = list(__import__("csv").DictReader(ref_tables.write_csv(tmp_path).open()))
    assert [r["g"] for r in rows] == data["g"] and [r["f_test"] for r in rows] == data["f_test"]


def test_tables_record_the_decimal_problem_they_solved():
    """Every table was computed for the decimals T = 0.1, sigma^2 = 1 (strings): gamma must read 0.1,
    not the binary double 0.10000000000000000555 that a 53-bit print gave."""
    from decimal import Decimal

    for row in ref_tables.load_table():
        assert Decimal(row["gamma"]) == Decimal(row["T"]) / Decimal(row["sigma_sq"]) == Decimal("0.1")


def test_float_parameters_are_recorded_exactly():
    res = reference("linear", depth=1, sigma0_sq=0.5, sigma_sq=1, T=0.1, r=0.5, times=[1.0], dps=8)
    assert res.metadata["T"].startswith("0.1000000000000000055511151231257827")
    assert "binary" in res.metadata["parameters"]
    dec = reference("linear", depth=1, sigma0_sq="0.5", sigma_sq="1", T="0.1", r=0.5, times=[1.0], dps=8)
    assert dec.metadata["T"] == "0.1" and dec.metadata["gamma"] == "0.1"
