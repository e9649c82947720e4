"""dagster-k8s configuration → podc layers, one per level, with provenance naming each source key.

The reusable API (the executor, the run launcher and ``podc migrate dagster-k8s`` all use it):

* a *level* is one place dagster-k8s reads configuration from, read into a :class:`K8sLevel`:

  - :func:`user_config_level` — a ``dagster-k8s/config`` tag value, ``step_k8s_config``,
    ``per_step_k8s_config.<op>``, ``run_k8s_config`` (sections + ``merge_behavior``);
  - :func:`container_context_level` — the flat keys (``env_vars``, ``volumes``, ``labels``, …)
    of the executor, of ``K8sRunLauncher`` or of a code location's ``container_context.k8s``,
    merged with their raw section key (``step_k8s_config``/``run_k8s_config``) as dagster-k8s does;
  - :func:`code_location_levels` — a code location's whole ``container_context``;

* :func:`translate_levels` merges the levels in order exactly like dagster-k8s (DEEP or SHALLOW per
  level) and returns one podc layer per level (:class:`K8sLayer`): a positioned tree whose every
  value's origin is the exact source key (``run-config:execution.config.env_vars[2]``), so
  ``podc explain`` and the step's launch event say which key set what.

A level's layer holds what that level set, placed on podc fields (see :mod:`podc.dagster.k8s_place`);
lists carry the merged list so far (podc would otherwise replace what dagster-k8s appends), a
``SHALLOW`` level's top-level keys are ``!replace``. Where dagster-k8s would emit two items with
one key (two ``FOO`` env vars, two ``scratch`` volumes) podc keeps one: the last, at the first's
place.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from podc._record import field, record
from podc.dagster.k8s_model import K8sConfig, merge, parse_user_config, positioned, read_value
from podc.dagster.k8s_place import MAIN_CONTAINER, place_layer
from podc.errors import Diagnostic, Diagnostics, PodcError, Pos, did_you_mean
from podc.tree import MapNode, Node, Origin, ScalarNode, SeqNode

__all__ = ["K8sLevel", "K8sLayer", "Translation", "user_config_level", "container_context_level",
           "code_location_levels", "run_launcher_level", "translate_levels", "translate",
           "CONTAINER_CONTEXT_KEYS", "FLAT_KEYS"]

_CODE = "dagster.k8s-config"
#: the flat keys shared by k8s_job_executor, K8sRunLauncher and container_context.k8s
FLAT_KEYS = ("image_pull_policy", "image_pull_secrets", "service_account_name", "env_config_maps",
             "env_secrets", "env_vars", "volume_mounts", "volumes", "labels", "resources",
             "scheduler_name", "security_context")
CONTAINER_CONTEXT_KEYS = (*FLAT_KEYS, "namespace", "run_k8s_config", "server_k8s_config", "env",
                          "server_replica_count")


@record(frozen=True)
class K8sLevel:
    """One level of dagster-k8s configuration. ``name`` names the podc layer it becomes;
    ``namespace`` and ``image`` (``job_image``) are positioned scalars when the level sets them."""

    name: str
    config: K8sConfig = field(default_factory=K8sConfig)
    namespace: ScalarNode | None = None
    image: ScalarNode | None = None
    diagnostics: tuple[Diagnostic, ...] = ()  # warnings found while reading the level


@record
class K8sLayer:
    name: str
    node: MapNode  # a podc layer (positioned)
    warnings: list[Diagnostic] = field(default_factory=list)


@record
class Translation:
    layers: list[K8sLayer]  # non-empty layers only, in merge order
    merged: K8sConfig  # dagster-k8s's merged configuration over every level
    namespace: ScalarNode | None = None  # the last level that set one wins
    image: ScalarNode | None = None  # the last level's job_image
    container_name: str = "dagster"  # dagster-k8s's name for the step container

    @property
    def warnings(self) -> list[Diagnostic]:
        return [w for layer in self.layers for w in layer.warnings]


# ---------------------------------------------------------------------------------------------
# reading levels

def user_config_level(value: Any, name: str, source: str | None = None, *,
                      diags: Diagnostics | None = None) -> K8sLevel:
    """A ``dagster-k8s/config`` value (mapping or JSON text) as a level named ``name``."""
    own = diags is None
    diags = Diagnostics() if own else diags
    config = parse_user_config(value, layer=name, source=source or name, diags=diags)
    if own:
        diags.raise_if_errors()
    return K8sLevel(name, config)


def _env_var(text: Any, layer: str, path: str, environ: Mapping[str, str],
             diags: Diagnostics) -> Node | None:
    """``NAME=value`` or ``NAME`` (the value of NAME in this process, as dagster-k8s reads it)."""
    if not isinstance(text, str) or not text:
        diags.add(_CODE, f"expected NAME or NAME=value, got {text!r}", Pos(path), path=path)
        return None
    origin = Origin(layer, Pos(path))
    if "=" in text:
        key, value = text.split("=", 1)
    else:
        key, value = text, environ.get(text)
        if value is None:
            diags.add(_CODE, f"{text} is not set in the environment of the process that reads this "
                      "config (the run worker)", Pos(path), path=path,
                      hint=f"set {text} there, or write {text}=<value>")
            return None
    return MapNode({"name": ScalarNode(key, origin), "value": ScalarNode(value, origin)}, origin)


#: flat key -> (its Kubernetes type, where K8sContainerContext puts it: (section, field)...)
_FLAT_PLACES = (
    ("volume_mounts", "list[V1VolumeMount]", (("container", "volumeMounts"),)),
    ("resources", "V1ResourceRequirements", (("container", "resources"),)),
    ("image_pull_secrets", "list[V1LocalObjectReference]", (("pod", "imagePullSecrets"),)),
    ("volumes", "list[V1Volume]", (("pod", "volumes"),)),
    ("labels", "dict(str, str)", (("template", "labels"), ("job", "labels"))),
    ("image_pull_policy", "str", (("container", "imagePullPolicy"),)),
    ("service_account_name", "str", (("pod", "serviceAccountName"),)),
    ("scheduler_name", "str", (("pod", "schedulerName"),)),
    ("security_context", "V1SecurityContext", (("container", "securityContext"),)),
)


def _flat_sections(cfg: Mapping[str, Any], layer: str, source: str, environ: Mapping[str, str] | None,
                   diags: Diagnostics) -> dict[str, dict[str, Node]]:
    """``K8sContainerContext._get_base_user_defined_k8s_config``: flat keys → sections."""
    sections: dict[str, dict[str, Node]] = {"container": {}, "pod": {}, "template": {}, "job": {}}
    container = sections["container"]

    def read(key: str, kind: str) -> Node | None:
        value = cfg.get(key)
        if value is None or value == [] or value == {}:
            return None
        return read_value(value, kind, layer, f"{source}.{key}", diags)

    def seq(key: str) -> list[Any]:
        value = cfg.get(key) or []
        if not isinstance(value, (list, tuple)):
            diags.add(_CODE, f"expected a list, got {type(value).__name__}", Pos(f"{source}.{key}"))
            return []
        return list(value)

    for key, kind, places in _FLAT_PLACES:
        node = read(key, kind)
        if node is not None:
            for section, field in places:
                sections[section][field] = node
    env_from: list[Node] = []
    for key, ref in (("env_config_maps", "configMapRef"), ("env_secrets", "secretRef")):
        for i, name in enumerate(seq(key)):
            path = f"{source}.{key}[{i}]"
            env_from.append(positioned({ref: {"name": name}}, layer, path))
    if env_from:
        container["envFrom"] = SeqNode(env_from, Origin(layer, Pos(f"{source}.env_from")))
    env: list[Node] = []
    for i, text in enumerate(seq("env_vars")):
        if environ is None and isinstance(text, str) and "=" not in text:
            continue  # NAME alone, read where the run worker runs (podc migrate keeps it there)
        node = _env_var(text, layer, f"{source}.env_vars[{i}]", environ or {}, diags)
        if node is not None:
            env.append(node)
    extra_env = read("env", "list[V1EnvVar]")
    if isinstance(extra_env, SeqNode):
        env.extend(extra_env.items)
    if env:
        container["env"] = SeqNode(env, Origin(layer, Pos(f"{source}.env_vars")))
    return {"container_config": container, "pod_spec_config": sections["pod"],
            "pod_template_spec_metadata": sections["template"], "job_metadata": sections["job"]}


def container_context_level(cfg: Mapping[str, Any] | None, name: str, source: str | None = None, *,
                            raw_key: str = "run_k8s_config", namespace_key: str = "namespace",
                            image_key: str | None = None, allowed: Sequence[str] = (),
                            environ: Mapping[str, str] | None = None, read_worker_env: bool = True,
                            diags: Diagnostics | None = None) -> K8sLevel:
    """The flat keys of ``cfg`` merged with ``cfg[raw_key]`` (with its merge behaviour), like
    ``K8sContainerContext(...flat keys..., run_k8s_config=cfg[raw_key])``.

    ``env_vars`` entries written ``NAME`` take NAME's value in ``environ`` (default: this
    process's environment, as dagster-k8s does in the run worker); with ``read_worker_env=False``
    they are left out (for tools that do not run in the run worker).

    Keys of ``cfg`` that are neither flat keys, ``raw_key``, ``namespace_key``, ``image_key`` nor
    in ``allowed`` (handled by the caller) are errors: nothing is dropped silently.
    """
    own = diags is None
    diags = Diagnostics() if own else diags
    source = source or name
    environ = os.environ if environ is None else environ
    cfg = cfg or {}
    known = {*FLAT_KEYS, raw_key, namespace_key, *(k for k in (image_key,) if k), *allowed}
    for key in cfg:
        if key not in known:
            guess = did_you_mean(str(key), known)
            diags.add(_CODE, f"`{key}` is not a key podc knows here", Pos(f"{source}.{key}"),
                      hint=f"did you mean `{guess}`?" if guess else "keys: " + ", ".join(sorted(known)))
    flat = _flat_sections(cfg, name, source, environ if read_worker_env else None, diags)
    base = K8sConfig({k: MapNode(v, Origin(name, Pos(f"{source}")), {}) for k, v in flat.items() if v})
    raw = parse_user_config(cfg.get(raw_key), layer=name, source=f"{source}.{raw_key}", diags=diags)
    config = merge(base, raw, diags)
    namespace = cfg.get(namespace_key)
    image = cfg.get(image_key) if image_key else None
    level = K8sLevel(
        name, config,
        ScalarNode(namespace, Origin(name, Pos(f"{source}.{namespace_key}"))) if namespace else None,
        ScalarNode(image, Origin(name, Pos(f"{source}.{image_key}"))) if image else None)
    if own:
        diags.raise_if_errors()
    return level


def code_location_levels(container_context: Mapping[str, Any] | None, name: str, *,
                         source: str = "code-location:container_context",
                         environ: Mapping[str, str] | None = None,
                         diags: Diagnostics | None = None) -> list[K8sLevel]:
    """``K8sContainerContext.create_from_config``: the shared ``env_vars``, then ``k8s`` merged
    onto them (``server_k8s_config`` and ``server_replica_count`` are for code servers: not
    read). One level (empty list when the container context has no Kubernetes settings)."""
    own = diags is None
    diags = Diagnostics() if own else diags
    cc = container_context or {}
    levels = []
    if cc.get("env_vars"):
        levels.append(container_context_level({"env_vars": cc["env_vars"]}, name, source,
                                               environ=environ, diags=diags))
    k8s = cc.get("k8s")
    if k8s:
        if not isinstance(k8s, Mapping):
            diags.add(_CODE, f"expected a mapping, got {type(k8s).__name__}", Pos(f"{source}.k8s"))
        else:
            levels.append(container_context_level(
                k8s, name, f"{source}.k8s", allowed=("env", "server_k8s_config", "server_replica_count"),
                environ=environ, diags=diags))
    if own:
        diags.raise_if_errors()
    if len(levels) == 2:
        shared, k8s_level = levels
        levels = [K8sLevel(name, merge(shared.config, k8s_level.config, diags), k8s_level.namespace)]
    return levels


#: K8sRunLauncher keys that do not describe the Job (connection, instance, allow-lists)
LAUNCHER_OTHER_KEYS = ("instance_config_map", "postgres_password_secret", "dagster_home",
                       "load_incluster_config", "kubeconfig_file", "k8s_api_ssl_ca_cert_file",
                       "fail_pod_on_run_failure", "only_allow_user_defined_k8s_config_fields",
                       "only_allow_user_defined_env_vars")


def run_launcher_level(cfg: Mapping[str, Any] | None, name: str = "instance:run_launcher", *,
                       source: str = "instance:run_launcher", environ: Mapping[str, str] | None = None,
                       diags: Diagnostics | None = None) -> K8sLevel:
    """``K8sRunLauncher``'s config (as written under ``run_launcher.config`` in dagster.yaml)."""
    return container_context_level(cfg, name, source, raw_key="run_k8s_config",
                                   namespace_key="job_namespace", image_key="job_image",
                                   allowed=LAUNCHER_OTHER_KEYS, environ=environ, diags=diags)


# ---------------------------------------------------------------------------------------------
# levels -> layers

def _delta(own: MapNode, merged: MapNode, shallow: bool, before: MapNode | None = None) -> MapNode:
    """What a level contributes, read from the merged state: its own keys; under a mapping, its
    own keys again; a list is the merged list (podc would replace what dagster-k8s appends);
    SHALLOW marks the level's top-level keys ``replace`` — except the pod's ``containers``, where
    podc's step container lives: the sidecars lower levels added and this one does not name
    are deleted instead."""
    items: dict[str, Node] = {}
    for key, value in own.items.items():
        now = merged.items.get(key, value)
        if shallow and key == "containers" and isinstance(now, SeqNode):
            items[key] = _drop_sidecars(now, before.items.get(key) if before is not None else None)
        elif shallow:
            if isinstance(now, (MapNode, SeqNode)):
                now = _with_directive(now, "replace")
            items[key] = now
        elif isinstance(value, MapNode) and isinstance(now, MapNode):
            items[key] = _delta(value, now, False)
        else:
            items[key] = now
    return MapNode(items, own.origin, own.key_pos)


def _drop_sidecars(now: SeqNode, earlier: Node | None) -> SeqNode:
    def name(item: Node) -> Any:
        return getattr(item.items.get("name"), "value", None) if isinstance(item, MapNode) else None

    keep = {name(i) for i in now.items}
    gone = [MapNode({"name": ScalarNode(name(i), now.origin)}, now.origin, directive="delete")
            for i in getattr(earlier, "items", ()) if name(i) not in keep]
    return SeqNode([*now.items, *gone], now.origin)


def _with_directive(node: MapNode | SeqNode, directive: str) -> MapNode | SeqNode:
    if isinstance(node, MapNode):
        return MapNode(node.items, node.origin, node.key_pos, directive)
    return SeqNode(node.items, node.origin, directive)


def translate_levels(levels: Sequence[K8sLevel], *, main_container: str = MAIN_CONTAINER,
                     diags: Diagnostics | None = None) -> Translation:
    """Merge ``levels`` in order the way dagster-k8s does and return one podc layer per level.

    Errors go to ``diags`` (raised as one :class:`PodcError` when none is given); warnings (keys
    podc does not honour, named) are on each layer.
    """
    own = diags is None
    diags = Diagnostics() if own else diags
    state = K8sConfig()
    deltas: list[tuple[K8sLevel, dict[str, MapNode]]] = []
    namespace = image = None
    for level in levels:
        after = merge(state, level.config, diags)
        shallow = level.config.merge_behavior == "SHALLOW"
        deltas.append((level, {name: _delta(node, after.sections[name], shallow, state.section(name))
                               for name, node in level.config.sections.items()}))
        state = after
        namespace = level.namespace or namespace
        image = level.image or image
    container = state.section("container_config")
    named = container.items.get("name") if container is not None else None
    container_name = named.value if isinstance(named, ScalarNode) and named.value else "dagster"
    layers = []
    for level, sections in deltas:
        warnings = Diagnostics()
        warnings.extend(level.diagnostics)
        node = place_layer(sections, level.name, warnings, renamed=container_name,
                           main_container=main_container)
        diags.extend(w for w in warnings.items if w.severity == "error")
        if node.items:
            layers.append(K8sLayer(level.name, node, [w for w in warnings.items if w.severity != "error"]))
    if own:
        diags.raise_if_errors()
    return Translation(layers, state, namespace, image, container_name)


def translate(value: Any, name: str, source: str | None = None) -> K8sLayer:
    """One ``dagster-k8s/config`` value on its own as a podc layer. Raises :class:`PodcError`."""
    result = translate_levels([user_config_level(value, name, source)])
    if result.layers:
        return result.layers[0]
    return K8sLayer(name, MapNode({}, Origin(name, Pos(source or name))))


def raise_errors(diags: Diagnostics) -> None:
    if diags.errors:
        raise PodcError(diags.errors)
