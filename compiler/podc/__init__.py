"""podc: a declarative pod-spec configuration compiler for Kubernetes batch work.

``import podc`` stays light: the public functions are loaded on first use (PEP 562), and nothing
here ever imports ``kubernetes`` or ``dagster`` (those live in ``podc.runtime`` and
``podc.dagster``, installed with the extras).
"""

from podc._version import __version__
from podc._lazy import lazy_exports
from podc.errors import Diagnostic, PodcError, Pos

__all__ = ["__version__", "Diagnostic", "PodcError", "Pos", "compile_project", "compile_layers", "explain",
           "load_project", "check_project", "check_manifests", "CompiledJob", "CompileResult", "ExplainRecord"]

# public name -> module that defines it (imported on first access)
_LAZY = {
    "compile_project": "podc.api",
    "compile_layers": "podc.api",
    "load_project": "podc.api",
    "check_project": "podc.api",
    "check_manifests": "podc.api",
    "CompileResult": "podc.api",
    "CompiledJob": "podc.render.compiled",
    "explain": "podc.render.provenance",
    "ExplainRecord": "podc.render.provenance",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
