"""Simulation studies in the report: :mod:`.load` (the summary), :mod:`.words` (numbers in words), :mod:`.page`."""
