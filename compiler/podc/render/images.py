"""Apply image overrides (``images:`` in podc.yaml, ``--image``) to compiled Jobs.

The override is the last word on an image, after every layer; provenance shows it (layer
``images`` at its podc.yaml line, or ``--image``) with the layer value it replaced.
"""

from __future__ import annotations

import copy
from collections import ChainMap
from typing import Sequence

from podc._record import replace
from podc.errors import Pos
from podc.kube.image_overrides import ImageOverride, override_image
from podc.render.compiled import CompiledJob, ValueOrigin

__all__ = ["apply_image_overrides"]

_LISTS = ("initContainers", "containers")


def apply_image_overrides(jobs: list, overrides: Sequence[ImageOverride]) -> list:
    """``overrides``: ImageOverride values or their keyword-argument dicts (as the project holds them)."""
    if not overrides:
        return jobs
    overrides = [o if isinstance(o, ImageOverride) else ImageOverride(**o) for o in overrides]
    return [_apply(job, overrides) for job in jobs]


def _apply(job: CompiledJob, overrides: Sequence[ImageOverride]) -> CompiledJob:
    pod = job.manifest.get("spec", {}).get("template", {}).get("spec", {})
    changes: dict[str, tuple[str, ImageOverride]] = {}
    for key in _LISTS:
        for i, container in enumerate(pod.get(key) or []):
            image = container.get("image") if isinstance(container, dict) else None
            if isinstance(image, str):
                new, hit = override_image(image, overrides)
                if hit is not None and new != image:
                    changes[f"/spec/template/spec/{key}/{i}/image"] = (new, hit)
    if not changes:
        return job
    manifest = copy.deepcopy(job.manifest)
    origins: dict[str, ValueOrigin] = {}
    for pointer, (new, hit) in changes.items():
        _, _, _, _, key, index, _ = pointer.split("/")
        manifest["spec"]["template"]["spec"][key][int(index)]["image"] = new
        before = job.provenance.get(pointer)
        replaced = (*before.overridden, (before.layer, before.pos)) if before is not None else ()
        origins[pointer] = ValueOrigin(hit.layer, hit.pos or Pos(), replaced)
    return replace(job, manifest=manifest, provenance=ChainMap(origins, job.provenance))  # type: ignore[arg-type]
