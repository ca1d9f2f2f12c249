"""Everything EM: the loop (:mod:`.loop`), the engine contract (:mod:`.engine`), the engines (discrete
latents in :mod:`.discrete`, conditionally Gaussian ones in :mod:`.gaussian`, the Laplace-EM in
:mod:`.laplace`), SQUAREM (:mod:`.squarem`), the boundary profile (:mod:`.boundary`) and the choice of
engine when a model is loaded (:mod:`.choose`).

Nothing is imported here: ``comparisons.density.start`` reads :mod:`.discrete.graph` without loading
the engines.
"""
