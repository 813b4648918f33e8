"""The one result type of every solver, and its files.

:class:`Result` holds ``times`` (n,), ``train`` (n, P), ``test`` (n, Q), ``error_estimate`` (a bound
on the absolute error of ``train`` and ``test``; 0 for closed forms) and one ``metadata`` dict
(network, T, data shapes and hash, tolerances, method, version, timings). Solver-specific arrays
(standard errors of a simulation, certified digits and decimal strings of a reference) live in
``extras`` and read as attributes (``result.train_se``, ``result.digits``).

:func:`save` writes ``<stem>.npz`` (arrays) and ``<stem>.json`` (metadata and error estimate)
atomically, both stamped with the same run id; :func:`load` refuses a pair whose ids differ
(a torn or mixed-up run) with one clear error.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> r = Result(np.array([0.0, 1.0]), np.zeros((2, 3)), np.ones((2, 1)), 1e-12, {"method": "demo"},
    ...            {"train_se": np.full((2, 3), 0.1)})
    >>> r.train_se.shape, r.metadata["method"]
    ((2, 3), 'demo')
    >>> stem = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> _ = save(r, stem)
    >>> back = load(stem)
    >>> bool(np.array_equal(back.test, r.test)), back.error_estimate, back.metadata["method"]
    (True, 1e-12, 'demo')
"""
from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from symndk.errors import SymndkError
from symndk.files import atomic_write

CORE = ("times", "train", "test")


@dataclass
class Result:
    """Trajectory (or equilibrium, ``times = [inf]``) of the train and test predictors."""

    times: np.ndarray
    train: np.ndarray
    test: np.ndarray
    error_estimate: float = 0.0
    metadata: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict, repr=False)

    def __getattr__(self, name):
        extras = self.__dict__.get("extras") or {}
        if name in extras:
            return extras[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def save(result: Result, stem) -> tuple[Path, Path]:
    """Write ``<stem>.npz`` and ``<stem>.json`` atomically with one run id; returns both paths."""
    arrays = {k: np.asarray(getattr(result, k)) for k in CORE}
    arrays.update({k: np.asarray(v) for k, v in result.extras.items()})
    return save_arrays(arrays, {"error_estimate": float(result.error_estimate), "metadata": result.metadata,
                                "extras": sorted(result.extras)}, stem)


def save_arrays(arrays: dict | None, doc: dict, stem) -> tuple[Path | None, Path]:
    """Write ``arrays`` to ``<stem>.npz`` and ``doc`` to ``<stem>.json``, each atomically, both stamped with
    one new ``run_id`` (no pickles: object arrays are refused in one line); returns both paths. ``arrays``
    None: the JSON alone (the arrays live elsewhere, e.g. out-of-core .npy files the JSON names).

    Example:
        >>> import tempfile, pathlib
        >>> stem = pathlib.Path(tempfile.mkdtemp()) / "k"
        >>> npz, js = save_arrays({"K": np.eye(2)}, {"what": "demo"}, stem)
        >>> with np.load(npz) as z:
        ...     str(z["run_id"]) == json.loads(js.read_text())["run_id"], z["K"].shape
        (True, (2, 2))
    """
    stem = Path(stem)
    run_id = uuid.uuid4().hex
    npz = None
    if arrays is not None:
        arrays = {k: np.asarray(v) for k, v in arrays.items()}
        bad = [k for k, v in arrays.items() if v.dtype == object]
        if bad:
            raise SymndkError(f"cannot save non-numeric arrays {bad} without pickle")
        arrays["run_id"] = np.array(run_id)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        npz = atomic_write(stem.with_name(stem.name + ".npz"), buf.getvalue())
    js = atomic_write(stem.with_name(stem.name + ".json"),
                      json.dumps({"run_id": run_id, **doc}, indent=2, default=_json_default) + "\n")
    return npz, js


def load(stem) -> Result:
    """Read a result written by :func:`save`; a missing file or mismatched run ids give one error line."""
    stem = Path(stem)
    npz_path, json_path = stem.with_name(stem.name + ".npz"), stem.with_name(stem.name + ".json")
    try:
        doc = json.loads(json_path.read_text())
        with np.load(npz_path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise SymndkError(f"cannot read result {stem}: {exc}") from None
    if str(arrays.pop("run_id", "")) != doc.get("run_id"):
        raise SymndkError(f"{npz_path.name} and {json_path.name} come from different runs (run ids differ); "
                          f"refusing a mixed result")
    extras = {k: arrays[k] for k in doc.get("extras", [])}
    return Result(arrays["times"], arrays["train"], arrays["test"], doc["error_estimate"], doc["metadata"], extras)
