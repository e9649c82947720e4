"""podc: a declarative pod-spec configuration compiler for Kubernetes batch work.

``import podc`` stays light: the public functions are loaded on first use (PEP 562), and nothing
here ever imports ``kubernetes`` or ``dagster`` (those live in ``podc.runtime`` and
``podc.dagster``, installed with the extras).
"""

from podc._version import __version__
from podc._lazy import lazy_exports
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


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
