"""Fault injection (issue 38): the study page and the model page render from any valid summary.

Hypothesis draws summaries a real run can write but the hand-written fixtures do not: coverage of 0 of n
or n of n, NaN and None cells, one replicate, a parameter whose draws do not vary. Each page must render
without an exception and be well-formed HTML (every element closed in order).
"""

import math
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import arviz as az
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modemean.comparisons.results.fit import Fit
from modemean.comparisons.solvers.nuts import summarise_draws
from modemean.reports import load_model, render_model
from modemean.reports.study.load import Study
from modemean.reports.study.page import render_study

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SETTINGS = settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


class Balanced(HTMLParser):
    """Every start tag closed by its own end tag, innermost first; a stray or crossed tag is an error."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            self.errors.append(f"</{tag}> closes a void element")
        elif not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> while {self.stack[-3:]} are open")
        else:
            self.stack.pop()


def assert_valid_html(text: str) -> None:
    assert text.startswith("<!DOCTYPE html>")
    parser = Balanced()
    parser.feed(text)
    parser.close()
    assert not parser.errors, parser.errors[:5]
    assert not parser.stack, f"never closed: {parser.stack}"
    assert "nan" not in _words(text) and "None" not in _words(text)


def _words(text: str) -> set[str]:
    parser = _Text()
    parser.feed(text)
    return {w.strip(".,;:()") for w in " ".join(parser.parts).split()}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


# ------------------------------------------------------------------------------------------ the study page

NAMES = ["mu", "tau", "eta[0]", "eta[1]"]
ESTIMATORS = ["map", "em", "mle", "mean", "median", "mode"]
missing = st.sampled_from([None, math.nan])
number = st.floats(-50, 50, allow_nan=False)
positive = st.floats(0, 20, allow_nan=False)


@st.composite
def estimate(draw, n):
    cell = lambda values: draw(st.one_of(values, missing))
    many = n > 1
    return {
        "n": n,
        "bias": cell(number),
        "bias_mcse": cell(positive) if many else None,
        "rmse": cell(positive),
        "rmse_mcse": cell(positive) if many else None,
    }


@st.composite
def coverage(draw, n):
    covered = draw(st.one_of(st.just(0), st.just(n), st.integers(0, n)))  # all or none, often
    rate = covered / n
    return {
        "n": n,
        "covered": covered,
        "rate": rate,
        "se": (rate * (1 - rate) / n) ** 0.5,
        "nominal": 0.94,
        "missing": draw(st.integers(0, 3)),
    }


@st.composite
def sbc(draw, n):
    bins = draw(st.integers(1, 6))
    counts = draw(st.lists(st.integers(0, n), min_size=bins, max_size=bins))
    return {
        "n": n,
        "low_ess": 0,
        "draws": draw(st.integers(1, 99)),
        "bins": bins,
        "counts": counts,
        "expected": n / bins,
        "band": [0.0, n / bins + 2],
        "chi2": draw(st.one_of(positive, missing)),
        "p_value": draw(st.one_of(st.floats(0, 1), missing)),
    }


@st.composite
def study_summary(draw):
    done = draw(st.sampled_from([1, 4, 10, 50]))  # one replicate; n where n of n used to break the figure
    failed = draw(st.integers(0, 2))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    solvers = draw(st.sampled_from([["map", "em", "nuts"], ["nuts"], ["map"], ["map", "em"]]))
    keys = ([] if "map" not in solvers else ["map"]) + (["em", "mle"] if "em" in solvers else [])
    keys += ["mean", "median", "mode"] if "nuts" in solvers else []
    kinds = (["hdi94"] if "nuts" in solvers else []) + (["laplace94"] if "map" in solvers else [])
    return {
        "schema": 1,
        "model": "toy",
        "source": "models/toy.py",
        "truth": draw(st.sampled_from(["prior", "fixed"])),
        "key": "0" * 64,
        "complete": draw(st.booleans()),
        "settings": {
            "replicates": done + failed,
            "solvers": solvers,
            "seed": 7,
            "workers": 1,
            "draws": 100,
            "tune": 100,
            "chains": 1,
        },
        "replicates": {
            "done": done,
            "failed": failed,
            "seconds": {"total": 1.0, "mean": 0.5, "median": 0.5},
            "failures": [{"replicate": i, "error": "LinAlgError: <singular>"} for i in range(failed)],
        },
        "estimators": {p: {k: draw(estimate(done)) for k in keys} for p in names},
        "coverage": {p: {k: draw(coverage(done)) for k in kinds} for p in names},
        "sbc": {p: draw(sbc(done)) for p in names} if "nuts" in solvers else {},
    }


@SETTINGS
@given(study_summary())
def test_the_study_page_renders_every_valid_summary(data):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "toy"
        folder.mkdir()
        page = render_study(Study("toy", folder, data))
        assert_valid_html(page.read_text())


# ------------------------------------------------------------------------------------------ the model page


@st.composite
def model_fits(draw):
    names = ["mu", "tau"]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    constant = draw(st.sampled_from([None, "mu", "tau"]))  # a parameter whose draws do not vary
    posterior = {n: (np.full((2, 50), 1.5) if n == constant else rng.gamma(2.0, 1.0, (2, 50))) for n in names}
    draws = az.from_dict({"posterior": posterior, "sample_stats": {"diverging": np.zeros((2, 50), dtype=bool)}})
    nuts = Fit(
        "nuts",
        "ok",
        draw(st.sampled_from(["", "2 divergences"])),
        1.0,
        summarise_draws(draws.posterior),
        draws,
        converged=True,
        n_iter=100,
        diagnostics={"sampler": "pymc NUTS", "draws": 50, "chains": 2},
    )
    cell = lambda: draw(st.one_of(st.floats(0.0, 5.0), st.just(math.nan)))
    fits = {"nuts": nuts}
    if draw(st.booleans()):
        fits["map"] = Fit(
            "map",
            "ok",
            "",
            0.1,
            {"map": {n: cell() for n in names}, "laplace_sd": {n: cell() for n in names}},
            converged=True,
            n_iter=3,
            diagnostics={"starts": []},
        )
    else:
        fits["map"] = Fit("map", "failed", "find_MAP failed from every start", 0.1)
    kind = draw(st.sampled_from(["", "exact (Gaussian)", "Laplace (approximate)", "hand-written"]))
    if draw(st.booleans()):
        trace = [np.array([-3.0, -2.0, -2.0])]
        fits["em"] = Fit(
            "em",
            "ok",
            "",
            0.1,
            {"em": {n: cell() for n in names}, "mle": {n: cell() for n in names}},
            traces={"em": trace},
            converged=True,
            n_iter=2,
            diagnostics={"em_kind": kind} if kind else {},
        )
    else:
        fits["em"] = Fit("em", "not_applicable", "EM does not apply: LATENT is empty")
    return fits


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(model_fits())
def test_the_model_page_renders_every_valid_result(fits):
    from test_reports import _write

    with tempfile.TemporaryDirectory() as tmp:
        _write(Path(tmp), "toy", fits)
        page = render_model(load_model(Path(tmp), "toy"))
        assert_valid_html(page.read_text())
