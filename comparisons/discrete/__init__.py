"""EM derived from the PyMC model for discrete latent variables with finite support."""

from .engine import DegenerateFit, DiscreteLatentEM, discrete_hooks, discrete_latents, marginalize, normal_mixture_m_step

__all__ = ["DegenerateFit", "DiscreteLatentEM", "discrete_latents", "marginalize", "discrete_hooks",
           "normal_mixture_m_step"]
