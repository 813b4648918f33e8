"""Reproductions of the paper's figures as runnable, self-checking experiments.

Each reproduction (one module each) computes through the public API only (``symndk.predict``,
``symndk.drift``, ``symndk.simulate``, ...), writes PNG + PDF figures, NPZ/CSV data and a JSON
file of metadata and claim results, and prints its quantitative claim checks as PASS/FAIL with
the measured numbers. ``symndk reproduce NAME|all [--quick] [--out DIR] [--jobs N]`` runs them.

Example:
    >>> from symndk.reproduce import REPRODUCTIONS
    >>> list(REPRODUCTIONS)[:3]
    ['timescales', 'diffusive', 'early-stopping']
"""
from symndk.reproduce.runner import REPRODUCTIONS, run_many, run_reproduction

__all__ = ["REPRODUCTIONS", "run_many", "run_reproduction"]
