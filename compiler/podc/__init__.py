"""podc: a declarative pod-spec configuration compiler for Kubernetes batch work.

``import podc`` stays light: the public functions are loaded on first use (PEP 562), and nothing
here ever imports ``kubernetes`` or ``dagster`` (those live in ``podc.runtime`` and
``podc.dagster``, installed with the extras).
"""

from podc._version import __version__
from podc.errors import Diagnostic, PodcError, Pos

__all__ = ["__version__", "Diagnostic", "PodcError", "Pos"]
