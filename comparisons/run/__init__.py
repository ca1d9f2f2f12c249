"""Running comparisons: :mod:`.compare` (``compare``, ``stored_comparison``, ``run_solver``), :mod:`.comparison`
(the ``Comparison`` a run returns), :mod:`.output` (folders and shown paths), :mod:`.hashing` (every key's hash of
sources, data and settings), :mod:`.cache` (the result cache), :mod:`.batch` (several models, a worker process
each) and :mod:`.progress` (what a run says while it works)."""
