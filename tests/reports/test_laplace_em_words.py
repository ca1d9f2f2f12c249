"""A Laplace-EM number is approximately the marginal mode, and every sentence about one says so (issue 38, item 9).

The pages are built from synthetic results (no solver runs): a Laplace-EM fit beside find_MAP and NUTS,
once with a mode and once where find_MAP found none (the gap is then measured from EM).
"""

import re
from html import unescape

import numpy as np
from test_reports import _nuts, _write

from modemean.comparisons.results.fit import Fit, Flag
from modemean.reports import render

LAPLACE = "Laplace (approximate)"
PEAK = "the peak of the posterior with the latent variables integrated out"


def _em(kind: str) -> Fit:
    return Fit(
        "em",
        "ok",
        "",
        0.2,
        {"em": {"mu": 1.6, "tau": 2.0}, "mle": {"mu": 1.5, "tau": 1.5}},
        traces={"em": [np.array([-9.0, -5.0, -4.0, -3.9])]},
        converged=True,
        n_iter=3,
        diagnostics={"em_kind": kind},
    )


def _map(no_mode: bool) -> Fit:
    flags = {"tau": [Flag("map", "no_mode", 900.0, "map: not a mode: still rising")]} if no_mode else {}
    return Fit(
        "map",
        "ok",
        "find_MAP found no mode" if no_mode else "",
        0.4,
        {"map": {"mu": 1.0, "tau": 705.5 if no_mode else 0.5}, "laplace_sd": {"mu": 0.5, "tau": 300.0}},
        converged=not no_mode,
        n_iter=12,
        flags=flags,
        diagnostics={"no_mode": True} if no_mode else {},
    )


def _verdict(page: str) -> list[str]:
    section = page.split('<section class="section-verdict">', 1)[1].split("</section>", 1)[0]
    return [unescape(re.sub(r"<[^>]+>", "", li)) for li in re.findall(r"<li>(.*?)</li>", section)]


def _pages(tmp_path, kind):
    _write(tmp_path, "peak", {"map": _map(False), "em": _em(kind), "nuts": _nuts(1)})
    _write(tmp_path, "runaway", {"map": _map(True), "em": _em(kind), "nuts": _nuts(2)})
    render(tmp_path)
    read = lambda p: (tmp_path / p).read_text()
    return read("peak/index.html"), read("runaway/index.html"), read("index.html")


def test_every_sentence_about_a_laplace_em_number_says_approximately(tmp_path):
    peak, runaway, index = _pages(tmp_path, LAPLACE)
    about_em = [s for s in _verdict(peak) + _verdict(runaway) if "EM's marginal mode" in s]
    assert len(about_em) >= 3  # tau's and mu's sentences on one page, the no-mode line and tau's on the other
    for sentence in about_em:
        assert "approximately" in sentence, sentence
    text = unescape(runaway)
    assert PEAK in text and text.count(PEAK) == text.count(f"approximately {PEAK}")
    # runaway's gap is measured from EM's mode (find_MAP found none): a no-mode gap, beside the skew gaps
    assert "no mode, from EM's mode (approximately: Laplace-EM))" in unescape(index)
    assert "approximately the log posterior for MAP-EM" in unescape(peak)  # the EM trace's caption
    assert "approximately, not exactly, the marginal's modes" in unescape(peak)  # the EM kind's sentence


def test_an_exact_em_is_not_called_approximate(tmp_path):
    peak, runaway, index = _pages(tmp_path, "exact (Gaussian)")
    assert "approximately" not in unescape(peak + runaway + index)
    assert f"), {PEAK}" in unescape(runaway)
