"""Shared fixtures: each catalog comparison is solved once per test session."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest

from comparisons import compare

SEED = 20261126


@pytest.fixture(scope="session")
def solved():
    """``solved(name)`` returns the full comparison (map, em, nuts at default settings), cached."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = compare(name, seed=SEED)
        return cache[name]

    return get
