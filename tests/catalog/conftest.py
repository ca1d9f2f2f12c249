"""Fixtures shared by the catalog suites."""

import pytest

from modemean.comparisons.spec import load_spec


@pytest.fixture(scope="module")
def spec():
    """``spec(name)``: the catalog model's spec, loaded once per test module."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = load_spec(name)
        return cache[name]

    return get
