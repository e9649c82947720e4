"""podc: a declarative pod-spec configuration compiler for Kubernetes batch work.

``import podc`` stays light: the public functions are loaded on first use (PEP 562), and nothing
here ever imports ``kubernetes`` or ``dagster`` (those live in ``podc.runtime`` and
``podc.dagster``, installed with the extras).
"""

from podc._version import __version__
from podc.errors import Diagnostic, PodcError, Pos

__all__ = ["__version__", "Diagnostic", "PodcError", "Pos", "compile_project", "compile_layers", "explain",
           "load_project", "CompiledJob", "CompileResult", "ExplainRecord"]

# public name -> module that defines it (imported on first access)
_LAZY = {
    "compile_project": "podc.pipeline",
    "compile_layers": "podc.pipeline",
    "load_project": "podc.pipeline",
    "CompileResult": "podc.pipeline",
    "CompiledJob": "podc.render",
    "explain": "podc.provenance",
    "ExplainRecord": "podc.provenance",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'podc' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
