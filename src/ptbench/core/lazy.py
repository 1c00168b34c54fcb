"""torch, imported when first used rather than when ptbench is imported.

Loading results, exporting, reporting and publishing read the operations' work counts but never
run a tensor, and importing torch costs a second or more of every such command. The operations
and ``devices`` therefore bind torch with :func:`module`: while torch is not imported, the name
holds a stand-in, and the first attribute read through it imports torch and rebinds the name,
in every module that asked, to torch itself (so timed calls pay nothing afterwards).

The stand-in is deliberately not put in ``sys.modules`` (as ``importlib.util.LazyLoader``
would): scipy and others look there to ask whether an array might be a torch tensor, and a lazy
module in ``sys.modules`` turns that question into a full torch import.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


class _Deferred(types.ModuleType):
    """Stands for a module until one of its attributes is read."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._bound_in: list[dict[str, Any]] = []  # globals of the modules holding the stand-in

    def __getattr__(self, attribute: str) -> Any:  # only for what the stand-in lacks
        real = importlib.import_module(self.__name__)
        for namespace in self._bound_in:
            if namespace.get(self.__name__) is self:
                namespace[self.__name__] = real
        return getattr(real, attribute)


_deferred: dict[str, _Deferred] = {}


def module(name: str, namespace: dict[str, Any]) -> types.ModuleType:
    """The top-level module ``name`` to bind as ``name`` in ``namespace`` (the caller's
    ``globals()``): the module itself once imported, else a stand-in that imports it on first
    use and rebinds ``namespace[name]`` to it."""
    if name in sys.modules:
        return sys.modules[name]
    stand_in = _deferred.setdefault(name, _Deferred(name))
    stand_in._bound_in.append(namespace)
    return stand_in
