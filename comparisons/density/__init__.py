"""Everything that evaluates the model's log density: the compile policy, the parameter space, the log
prior, support bounds, the optimisers' shared steps and the checks of the starting point."""
