"""K8sRunLauncher's allow-lists for user-defined configuration, as dagster-k8s applies them.

``only_allow_user_defined_k8s_config_fields`` limits which fields a code location's
``container_context`` may set (``K8sContainerContext.validate_user_k8s_config_for_run``): a field
outside the list is an error naming it. ``only_allow_user_defined_env_vars`` keeps only the named
env vars of that level, with a warning naming the others.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from podc.dagster.k8s_config import K8sLevel
from podc.dagster.k8s_model import SECTIONS, K8sConfig, kube_model
from podc.errors import Diagnostics, Pos
from podc.tree import MapNode, SeqNode

__all__ = ["apply_allowlists"]

_CODE = "dagster.k8s-allowlist"


def _camel(section: str, key: str) -> str:
    model = kube_model(SECTIONS[section])
    return model.attribute_map.get(key, key) if model is not None else key


def apply_allowlists(level: K8sLevel, fields: Mapping[str, Any] | None, env_vars: Sequence[str] | None,
                     diags: Diagnostics) -> K8sLevel:
    """``level`` checked against the allow-lists (None: no list); errors go to ``diags``."""
    if fields is not None:
        for section, node in level.config.sections.items():
            allowed = {_camel(section, k) for k, v in (fields.get(section) or {}).items() if v}
            for key, value in node.items.items():
                if key not in allowed:
                    diags.add(_CODE, f"{section}.{key} is not in the run launcher's "
                              "only_allow_user_defined_k8s_config_fields", value.origin.pos,
                              hint="dagster-k8s refuses it too; ask the platform team to allow it")
        if level.namespace is not None and not fields.get("namespace"):
            diags.add(_CODE, "namespace is not in the run launcher's only_allow_user_defined_k8s_config_fields",
                      level.namespace.origin.pos)
    if env_vars is None:
        return level
    container = level.config.section("container_config")
    env = container.items.get("env") if container is not None else None
    if not isinstance(env, SeqNode):
        return level
    kept = []
    for item in env.items:
        name = getattr(item.items.get("name"), "value", None) if isinstance(item, MapNode) else None
        if name in env_vars:
            kept.append(item)
        else:
            diags.add(_CODE, f"env var {name} dropped: not in the run launcher's "
                      "only_allow_user_defined_env_vars", item.origin.pos or Pos(level.name),
                      severity="warning")
    items = dict(container.items)
    items["env"] = SeqNode(kept, env.origin, env.directive)
    sections = {**level.config.sections, "container_config": MapNode(items, container.origin, container.key_pos)}
    return K8sLevel(level.name, K8sConfig(sections, level.config.merge_behavior), level.namespace,
                    level.image, level.diagnostics)
