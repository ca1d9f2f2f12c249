"""Simulation studies: which estimate is closest to the truth, how often intervals cover it, and SBC.

The package face: :func:`~.study.study` runs (or resumes) a study of one model and returns a
:class:`~.study.Study`; the replicates are simulated and refitted in :mod:`.replicate`, run in
:mod:`.execute` and summarised in :mod:`.summary`.
"""

from .study import DEFAULT_SBC_DRAWS, Study, study

__all__ = ["study", "Study", "DEFAULT_SBC_DRAWS"]
