"""Coverage of 0 of n or n of n (issue 38, item 1): the Wilson interval holds the rate, the figure draws it."""

import pytest

from modemean.comparisons.results.schema import wilson
from modemean.reports.plots.study import coverage_figure
from modemean.reports.plots.style import save


def test_wilson_holds_the_rate_and_stays_in_0_1():
    for n in range(1, 301):
        for k in range(n + 1):
            lo, hi = wilson(k, n)
            assert 0.0 <= lo <= k / n <= hi <= 1.0, (k, n, lo, hi)


def test_wilson_of_all_or_none_ends_exactly_at_0_or_1():
    for n in (4, 10, 50, 200):
        assert wilson(0, n)[0] == 0.0 and wilson(n, n)[1] == 1.0


@pytest.mark.parametrize("n", [4, 10, 50, 200])
def test_coverage_figure_draws_all_or_none(tmp_path, n):
    coverage = {
        "mu": {"hdi94": _cell(n, n), "laplace94": _cell(n, 0)},
        "tau": {"hdi94": _cell(n, 0), "laplace94": _cell(n, n)},
    }
    labels = {"hdi94": "NUTS 94% HDI", "laplace94": "Laplace 94%"}
    save(coverage_figure(coverage, labels), tmp_path / "coverage.png")
    assert (tmp_path / "coverage.png").stat().st_size > 1000


def _cell(n, covered):
    rate = covered / n
    return {"n": n, "covered": covered, "rate": rate, "se": (rate * (1 - rate) / n) ** 0.5, "nominal": 0.94}
