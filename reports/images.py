"""The image section of a model page: for models whose parameter is an image (``theta[0..P-1]``, P square).

Drawn from the saved results only: the point estimates in ``results.json`` (columns ``mle``, ``em``,
``mean``, ``sd``), the model's own numbers (``highlights``) and the arrays its ``payload`` hook stored in
``results.nc`` (group ``payload``: ``truth``, ``oracle``, ``oracle_mle``, ``observations``, ``shown``,
``pose``, ``resp_em``, ``resp_nuts``). A model without such a payload gets no section. Models in the
same results folder whose payload holds the same true image (the same data under another prior) are
drawn next to it: their MAP-EM image and its error.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from modemean.comparisons.results.read import payload as read_payload
from modemean.comparisons.results.read import read_tree
from modemean.comparisons.results.schema import is_number

from .load import ModelResults
from .plots.style import STYLES, save

__all__ = ["section"]

KEYS = ("truth", "observations", "shown", "pose")  # a payload without these is not an image model's
CMAP, SD_CMAP = "magma", "viridis"
TRUE_POSE, OTHER_POSE = "#E69F00", "#BBBBBB"  # the bar of the true pose, the others


def section(results: ModelResults) -> str:
    """HTML of the image section (figures written next to the page), or ``""`` when the model has no images."""
    payload = _payload(results.folder)
    if payload is None:
        return ""
    truth = payload["truth"]
    size = int(round(np.sqrt(truth.size)))
    estimates = _estimates(results, truth.size)
    siblings = _siblings(results, truth)
    highlights = results.data.get("highlights") or {}
    parts = [
        '<h2 id="images">The images</h2>',
        "<p>Every image on one colour scale (the truth's range); errors are ||estimate − reference|| / "
        "||reference|| over the pixels, in observation 0's frame. The <b>oracle</b> knows every pose: the "
        "same estimator (this model's prior, or none for ML) with the true poses plugged in, so "
        "'error vs oracle' is what not knowing the poses costs.</p>",
    ]
    parts.append(
        _figure(
            results.folder,
            "fig-images.png",
            _image_panel(payload, estimates, siblings, size),
            "the true image, the oracle, ML-EM, MAP-EM, the posterior mean and the posterior sd",
            "Top: the truth, the known-pose oracle, find_MAP's mode (this prior; its best start may "
            "end in a globally rotated alignment), ML-EM (no prior), MAP-EM (this prior"
            + (", and under the other priors of the same data" if siblings else "")
            + "), the posterior mean (NUTS, poses summed out). Bottom: the posterior sd per pixel, and "
            "the posterior mean minus MAP-EM: where the mean and the mode differ.",
        )
    )
    parts.append(_error_table(highlights, siblings))
    if "resp_nuts" in payload or "resp_em" in payload:
        parts.append(
            _figure(
                results.folder,
                "fig-poses.png",
                _pose_panel(payload, size),
                "a few noisy observations and the posterior probability of each rotation",
                "Top: observations as recorded (the particle is invisible at this noise level; the "
                "title gives the true rotation). Bottom: P(pose | data) over the rotations — bars: "
                "the posterior (responsibilities averaged over NUTS draws of the image); dots: the "
                "responsibilities at the MAP-EM image; the true pose's bar in orange. The last "
                "observations shown are those whose pose the posterior is least sure of.",
            )
        )
    parts.append(_mode_mean_text(payload, estimates, highlights))
    return "\n".join(parts)


def _payload(folder: Path) -> dict[str, np.ndarray] | None:
    try:
        payload = read_payload(read_tree(folder, lambda group: group == "payload"))
    except (OSError, ValueError, KeyError):
        return None
    if not payload:
        return None
    truth = payload.get("truth")
    if not all(k in payload for k in KEYS) or truth is None or int(round(np.sqrt(truth.size))) ** 2 != truth.size:
        return None
    return payload


def _estimates(results: ModelResults, size: int) -> dict[str, np.ndarray]:
    """The table's columns ``map``, ``mle``, ``em``, ``mean``, ``sd`` as images (P,), where every pixel has a value."""
    rows = [results.parameters.get(f"theta[{i}]", {}) for i in range(size)]
    out = {}
    for column in ("map", "mle", "em", "mean", "sd"):
        values = [row.get(column) for row in rows]
        if all(is_number(v) for v in values):
            out[column] = np.array(values, dtype=float)
    return out


def _siblings(results: ModelResults, truth: np.ndarray) -> list[tuple[str, np.ndarray, float | None]]:
    """Other models in the same folder with the same true image: (name, MAP-EM image, its error vs truth)."""
    found = []
    for other in sorted(results.folder.parent.glob("*/results.json")):
        folder = other.parent
        if folder == results.folder:
            continue
        payload = _payload(folder)
        if payload is None or payload["truth"].shape != truth.shape or not np.array_equal(payload["truth"], truth):
            continue
        data = json.loads(other.read_text())
        em = [data["parameters"].get(f"theta[{i}]", {}).get("em") for i in range(truth.size)]
        if all(is_number(v) for v in em):
            error = (data.get("highlights") or {}).get("MAP-EM (em): error vs truth")
            found.append((folder.name, np.array(em, dtype=float), error))
    return found


def _figure(folder: Path, filename: str, fig: Figure, alt: str, caption: str) -> str:
    save(fig, folder / filename)
    return (
        f'<figure><img src="{escape(filename)}" alt="{escape(alt)}"><figcaption>{escape(caption)}</figcaption></figure>'
    )


def _error(estimate: np.ndarray, reference: np.ndarray) -> float:
    return float(np.linalg.norm(estimate - reference) / np.linalg.norm(reference))


def _image_panel(payload: dict, estimates: dict, siblings: list, size: int) -> Figure:
    truth = payload["truth"]
    top = [("truth", truth)]
    if "oracle" in payload:
        top.append(("oracle (known poses)", payload["oracle"]))
    for column, label in (("map", "find_MAP (map)"), ("mle", "ML-EM (mle)"), ("em", "MAP-EM (em)")):
        if column in estimates:
            top.append((label, estimates[column]))
    top += [(f"MAP-EM, {name}", em) for name, em, _ in siblings]
    if "mean" in estimates:
        top.append(("posterior mean", estimates["mean"]))
    ncols = max(len(top), 3)
    fig = Figure(figsize=(2.2 * ncols + 0.8, 5.4), layout="constrained")
    upper, lower = fig.subfigures(2, 1)
    axes = upper.subplots(1, ncols, squeeze=False)[0]
    lo, hi = float(truth.min()), float(truth.max())
    for ax, (label, image) in zip(axes, top, strict=False):  # more axes than images
        shown = ax.imshow(image.reshape(size, size), cmap=CMAP, vmin=lo, vmax=hi)
        title = label if image is truth else f"{label}\nerror {_error(image, truth):.3f}"
        ax.set_title(title, fontsize=10)
    upper.colorbar(shown, ax=list(axes), shrink=0.8)
    bottom = []
    if "sd" in estimates:
        bottom.append(("posterior sd", estimates["sd"], SD_CMAP, 0.0, float(estimates["sd"].max())))
    if "mean" in estimates and "em" in estimates:
        diff = estimates["mean"] - estimates["em"]
        reach = float(np.abs(diff).max()) or 1.0
        bottom.append(("posterior mean − MAP-EM", diff, "RdBu_r", -reach, reach))
    low_axes = lower.subplots(1, ncols, squeeze=False)[0]
    for ax, (label, image, cmap, vmin, vmax) in zip(low_axes, bottom, strict=False):
        shown = ax.imshow(image.reshape(size, size), cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(label, fontsize=10)
        lower.colorbar(shown, ax=ax, shrink=0.8)
    for ax in [*axes, *low_axes]:
        ax.set_xticks([])
        ax.set_yticks([])
        if not ax.images:
            ax.set_axis_off()
    return fig


def _pose_panel(payload: dict, size: int) -> Figure:
    shown, observations, pose = payload["shown"].astype(int), payload["observations"], payload["pose"].astype(int)
    resp_nuts, resp_em = payload.get("resp_nuts"), payload.get("resp_em")
    K = (resp_nuts if resp_nuts is not None else resp_em).shape[1]
    angles = 360.0 * np.arange(K) / K
    fig = Figure(figsize=(2.3 * len(shown), 4.8), layout="constrained")
    axes = fig.subplots(2, len(shown), squeeze=False, height_ratios=[1.3, 1])
    for j, (i, image) in enumerate(zip(shown, observations, strict=True)):
        ax = axes[0, j]
        ax.imshow(image.reshape(size, size), cmap="gray")
        ax.set_title(f"observation {i}\ntrue pose {angles[pose[i]]:.0f}°", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        ax = axes[1, j]
        if resp_nuts is not None:
            colours = [TRUE_POSE if k == pose[i] else OTHER_POSE for k in range(K)]
            ax.bar(np.arange(K), resp_nuts[i], color=colours, label="posterior")
        if resp_em is not None:
            ax.plot(np.arange(K), resp_em[i], "o", color=STYLES["em"][0], markersize=4, label="at MAP-EM")
        ax.set_ylim(0, 1.05)
        ax.set_xticks(np.arange(K)[:: max(1, K // 4)], [f"{a:.0f}°" for a in angles[:: max(1, K // 4)]], fontsize=8)
        if j == 0:
            ax.set_ylabel("P(pose)")
            ax.legend(fontsize=7, loc="upper right")
        else:
            ax.set_yticklabels([])
    return fig


def _error_table(highlights: dict, siblings: list) -> str:
    """Each estimate's error against the truth and against the oracle with the same prior."""
    rows = [
        ("find_MAP (map)", "find_MAP (map): error vs truth", None),
        (
            "find_MAP (map), after the best global rotation",
            "find_MAP (map): error vs truth after the best global rotation",
            None,
        ),
        ("oracle ML (known poses, no prior)", "oracle ML (known poses): error vs truth", None),
        ("oracle MAP (known poses, this prior)", "oracle MAP (known poses, this prior): error vs truth", None),
        ("ML-EM (mle)", "ML-EM (mle): error vs truth", "ML-EM (mle): error vs oracle ML"),
        ("MAP-EM (em)", "MAP-EM (em): error vs truth", "MAP-EM (em): error vs oracle MAP"),
        (
            "posterior mean (nuts)",
            "posterior mean (nuts): error vs truth",
            "posterior mean (nuts): error vs oracle MAP",
        ),
    ]
    body = []
    for label, vs_truth, vs_oracle in rows:
        if vs_truth not in highlights:
            continue
        cells = [highlights.get(vs_truth), highlights.get(vs_oracle) if vs_oracle else None]
        shown = "".join(f"<td>{v:.3f}</td>" if is_number(v) else "<td>—</td>" for v in cells)
        body.append(f'<tr><th scope="row">{escape(label)}</th>{shown}</tr>')
    for name, _, error in siblings:
        value = f"{error:.3f}" if is_number(error) else "—"
        body.append(
            f'<tr><th scope="row">MAP-EM, {escape(name)} (same data, its prior)</th><td>{value}</td><td>—</td></tr>'
        )
    if not body:
        return ""
    head = "<tr><th>estimate</th><th>error vs truth</th><th>error vs the oracle (same prior)</th></tr>"
    return f'<table class="image-errors"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'


def _mode_mean_text(payload: dict, estimates: dict, highlights: dict) -> str:
    """Where the posterior mean and the mode (MAP-EM) differ, and why, from the stored numbers."""
    if "mean" not in estimates or "em" not in estimates:
        return ""
    truth = payload["truth"]
    gap = float(np.linalg.norm(estimates["mean"] - estimates["em"]) / np.linalg.norm(truth))
    sd = estimates.get("sd")
    typical = f" (the posterior sd is {np.median(sd):.3f} per pixel, median)" if sd is not None else ""
    sure = highlights.get("poses: mean P(true pose), posterior (NUTS)")
    certain = f" On average the posterior gives the true pose probability {sure:.2f}." if is_number(sure) else ""
    switched = ""
    if "resp_em" in payload and "resp_nuts" in payload:
        differ = payload["resp_em"].argmax(axis=1) != payload["resp_nuts"].argmax(axis=1)
        switched = (
            f" For {int(differ.sum())} of {len(differ)} observations the most probable pose at the MAP-EM "
            "image is not the posterior's most probable pose."
        )
    closer = "closer to" if _error(estimates["mean"], truth) < _error(estimates["em"], truth) else "farther from"
    return (
        f"<p><b>Mode and mean.</b> The posterior mean is {gap:.3f} × ||truth|| away from MAP-EM{typical}, "
        f"and {closer} the truth ({_error(estimates['mean'], truth):.3f} against "
        f"{_error(estimates['em'], truth):.3f}).{certain}{switched} Given the poses, the posterior of the "
        "image is Gaussian and its mean and mode coincide; what separates them is pose uncertainty. The mean "
        "averages the image over every pose the posterior still allows for each observation (blending in "
        "rotated copies where a pose is in doubt); MAP-EM commits to the alignment of one peak of the "
        "marginal posterior, wrong poses included. The difference image is the footprint of pose "
        "uncertainty.</p>"
    )
