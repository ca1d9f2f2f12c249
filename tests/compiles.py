"""Counting PyTensor compiles, for the tests that a path compiles nothing (a refit, a cache hit)."""

import traceback

from pytensor.compile import maker


class Compiles:
    """Counts PyTensor function constructions (every ``pytensor.function``) and where they came from."""

    def __init__(self, monkeypatch):
        self.where: list[str] = []
        original = maker.FunctionMaker.__init__

        def counting(this, *args, **kwargs):
            self.where.append(" <- ".join(f"{f.filename}:{f.name}" for f in traceback.extract_stack()[-12:-1]))
            return original(this, *args, **kwargs)

        monkeypatch.setattr(maker.FunctionMaker, "__init__", counting)

    def __len__(self):
        return len(self.where)
