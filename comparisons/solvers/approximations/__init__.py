"""The approximations of the posterior: Laplace sampling, ADVI (mean-field and full-rank) and Pathfinder."""
