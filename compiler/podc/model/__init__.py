"""Typed models of the podc/v1 formats (layer and project files), built on pydantic v2.

Importing this package imports pydantic (~60 ms on top of podc), so ``import podc`` and
``podc --version`` never do: only the stages that validate input import it.
"""

from podc.model.layer import LayerSpec, PolicyException
from podc.model.project import ProjectSpec
from podc.model.validate import check_directives, validate_layer, validate_project

__all__ = ["LayerSpec", "ProjectSpec", "PolicyException", "validate_layer", "validate_project", "check_directives"]
