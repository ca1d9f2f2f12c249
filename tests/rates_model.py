"""The Gamma-Poisson model file the engine and command-line tests write, in one copy.

A Gamma(2, 1) prior on a Poisson rate ``lam``; with the default counts ``y = [0, 2, 1]`` the posterior
is Gamma(5, rate 4) (:data:`POSTERIOR`). Tests vary the data, add code before the model (``header``),
at the top of ``build`` (``body``) or after it (``footer``: a hand-written EM, say).
"""

import textwrap
from pathlib import Path

POSTERIOR = (5.0, 4.0)  # shape and rate of lam's posterior with the default counts

_TEMPLATE = """
    import numpy as np
    import pymc as pm

    INFO = {{"title": "rates", "story": "Counts.", "why_skewed": "", "references": []}}
    LATENT = {latent}

    def load_data():
        return {{"y": {data}}}

    def build(data):
        {body}
        with pm.Model() as model:
            lam = pm.Gamma("lam", alpha=2.0, beta=1.0)
            pm.Poisson("y", mu=lam, observed=data["y"])
        return model
"""


def source(*, data="np.array([0, 2, 1])", header="", body="pass", latent="()", footer="") -> str:
    """The model file's text; ``header`` and ``footer`` are code at the file's top level."""
    parts = (header, _TEMPLATE.format(data=data, body=body, latent=latent), footer)
    return "\n".join(textwrap.dedent(part) for part in parts if part)


def write(folder: Path, name: str = "rates", **parts) -> Path:
    """Write ``folder/name.py`` (see :func:`source` for ``parts``) and return its path."""
    path = Path(folder) / f"{name}.py"
    path.write_text(source(**parts))
    return path
