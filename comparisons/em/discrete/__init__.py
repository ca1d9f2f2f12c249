"""EM derived from the PyMC model for discrete latent variables with finite support.

A model that writes its latent labels explicitly (``z = pm.Categorical("z", p=w, shape=N)``,
``pm.Bernoulli``, ``pm.DiscreteUniform``) gets its EM steps from its own log-density graph. One
module per seam:

* :mod:`.graph` -- the latent's support and the log joint ``log p(z_i = k, y_i | theta)`` over it,
  vectorised (``vectorize_graph``): shape ``(K, *S)`` for a latent of shape ``S``.
* :mod:`.estep` -- the responsibilities (its softmax over ``K``), the observed-data log likelihood
  (the sum of its logsumexp), and the degeneracy checks: a non-finite likelihood, parameters the
  model refuses or a collapsing scale raise :class:`~comparisons.errors.DegenerateFitError`, which
  :func:`comparisons.em.loop.run_em` reports as a degenerate restart.
* :mod:`.fastpath` -- when the log joint is quadratic in one scalar observation per element
  (normal mixtures), its coefficients read off the graph and the E-step run in cache-sized blocks.
* :mod:`.mstep` -- the numerical M-step (L-BFGS on the expected complete-data log density + the log
  prior, never the Jacobian, in the coordinates of :class:`comparisons.density.space.ValueSpace`) and the
  starts. A model file may give a closed-form ``m_step`` instead.
* :mod:`.marginal` -- the model with the latent summed out, for find_MAP and NUTS.
* :mod:`.engine` -- :class:`DiscreteLatentEM`, which puts them together.
* :mod:`.steps` -- :class:`DiscreteEM`, the EM engine contract over it.

The latent variable must be the only one EM integrates out, its elements conditionally
independent given the parameters, and the observations that depend on it must be indexed by it
along their leading axes (``y[i, ...]`` depends on ``z[i]`` only).
"""

from .engine import DiscreteLatentEM
from .graph import discrete_chain, discrete_latents
from .marginal import marginalize
from .steps import DiscreteEM

__all__ = ["DiscreteEM", "DiscreteLatentEM", "discrete_chain", "discrete_latents", "marginalize"]
