"""Exact EM derived from the PyMC model for conditionally Gaussian continuous latents.

* :mod:`.structure` -- the checks that the log joint is quadratic in the latents, and its blocks;
* :mod:`.engine` -- :class:`GaussianLatentEM`: the conversions, the E-step, the marginal log likelihood;
* :mod:`.qfunction` -- ``Q`` by sigma points and its maximisation.

Where the log joint is not quadratic in the latents, :class:`comparisons.em.laplace.LaplaceLatentEM` runs
the same steps with the Laplace approximation; :mod:`comparisons.em.choose` picks one.
"""

from .engine import GaussianLatentEM
from .structure import NotGaussian

__all__ = ["GaussianLatentEM", "NotGaussian"]
