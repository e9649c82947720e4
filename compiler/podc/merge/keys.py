"""Which lists merge by which keys, and which fields are unions. Declared per field, never guessed.

The table follows Kubernetes' own strategic-merge-patch keys (k8s.io/api struct tags), with the
deliberate improvements podc makes (see the README's merge table):

* ports key on containerPort *and* protocol (SMP keys on containerPort only and collapses
  53/TCP + 53/UDP);
* in podc mode tolerations and envFrom accumulate by identity instead of being replaced
  (SMP replaces them, so an overlay silently loses the base's tolerations).
"""

from __future__ import annotations

from typing import Callable

from podc.tree import MapNode, Node, ScalarNode

# list field -> key fields (with the default a missing key field takes, or None if required)
KEYED_LISTS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "containers": (("name", None),),
    "initContainers": (("name", None),),
    "ephemeralContainers": (("name", None),),
    "env": (("name", None),),
    "volumes": (("name", None),),
    "imagePullSecrets": (("name", None),),
    "schedulingGates": (("name", None),),
    "resourceClaims": (("name", None),),
    "volumeMounts": (("mountPath", None),),
    "volumeDevices": (("devicePath", None),),
    "ports": (("containerPort", None), ("protocol", "TCP")),
    "hostAliases": (("ip", None),),
    "topologySpreadConstraints": (("topologyKey", None), ("whenUnsatisfiable", None)),
}

# podc mode only: lists whose items accumulate by their whole identity.
IDENTITY_LISTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "tolerations": (("key",), ("operator",), ("value",), ("effect",)),
    "envFrom": (("configMapRef", "name"), ("secretRef", "name"), ("prefix",)),
}
_IDENTITY_DEFAULTS = {"tolerations": {("operator",): "Equal"}}

# Union fields: when a patch sets one member, the base's other members are dropped.
_HANDLER = frozenset({"exec", "httpGet", "tcpSocket", "grpc", "sleep"})
_VALUE_FROM = frozenset({"secretKeyRef", "configMapKeyRef", "fieldRef", "resourceFieldRef", "fileKeyRef"})
_ENV_FROM = frozenset({"configMapRef", "secretRef"})
# by the name of the field holding the map
UNION_BY_FIELD: dict[str, frozenset[str]] = {
    "valueFrom": _VALUE_FROM,
    "livenessProbe": _HANDLER,
    "readinessProbe": _HANDLER,
    "startupProbe": _HANDLER,
    "postStart": _HANDLER,
    "preStop": _HANDLER,
}
# by the name of the list holding the map (the map is an item of that list)
UNION_BY_LIST_ITEM: dict[str, frozenset[str] | None] = {
    "env": frozenset({"value", "valueFrom"}),
    "envFrom": _ENV_FROM,
    "volumes": None,  # None: every key but "name" is a member (the volume source)
}

KeyFn = Callable[[Node], "tuple | None"]


def list_key_fn(field: str, mode: str) -> KeyFn | None:
    """The function giving a list item's merge key, or None when the list is replaced whole.
    Built once per (field, mode): the merge asks for it at every list of every layer."""
    hit = _KEY_FNS.get((field, mode), _UNSET)
    if hit is _UNSET:
        hit = _KEY_FNS[(field, mode)] = _key_fn(field, mode)
    return hit  # type: ignore[return-value]


_UNSET = object()
_KEY_FNS: dict[tuple[str, str], KeyFn | None] = {}


def _key_fn(field: str, mode: str) -> KeyFn | None:
    spec = KEYED_LISTS.get(field)
    if spec is not None:
        if len(spec) == 1 and spec[0][1] is None:  # one required field (name, mountPath, ...)
            name = spec[0][0]

            def one_field(item: Node) -> tuple | None:
                if not isinstance(item, MapNode):
                    return None
                v = item.items.get(name)
                return (v.value,) if isinstance(v, ScalarNode) and v.value is not None else None

            return one_field
        return lambda item: _fields_key(item, spec)
    if mode == "podc" and field in IDENTITY_LISTS:
        paths = IDENTITY_LISTS[field]
        defaults = _IDENTITY_DEFAULTS.get(field, {})
        if all(len(p) == 1 for p in paths):  # tolerations: top-level fields only
            names = tuple((p[0], defaults.get(p)) for p in paths)

            def flat_identity(item: Node) -> tuple | None:
                if not isinstance(item, MapNode):
                    return None
                get = item.items.get
                out = []
                for name, default in names:
                    v = get(name)
                    value = v.value if isinstance(v, ScalarNode) else None
                    out.append(default if value is None else value)
                return tuple(out)

            return flat_identity
        return lambda item: _identity_key(item, paths, defaults)
    return None


def delete_selector(field: str, item: Node) -> tuple[tuple[tuple[str, ...], object], ...] | None:
    """What a ``$patch: delete`` item of ``field`` selects: the key fields it gives, as
    ((path, value), ...); None when it gives none (or the list has no key).

    A delete item needs only key fields, and may give fewer than all of them: ``{key: spot,
    $patch: delete}`` removes every toleration with key ``spot``, ``{topologyKey: zone,
    $patch: delete}`` every constraint on ``zone``. A key field with a default (a port's
    ``protocol``) is always part of the selection."""
    if not isinstance(item, MapNode):
        return None
    spec = KEYED_LISTS.get(field)
    if spec is not None:
        out = []
        for name, default in spec:
            v = item.items.get(name)
            value = v.value if isinstance(v, ScalarNode) and v.value is not None else default
            if value is not None:
                out.append(((name,), value))
        return tuple(out) if out and out[0][0] == (spec[0][0],) else None
    paths = IDENTITY_LISTS.get(field)
    if paths is None:
        return None
    out = []
    for path in paths:
        value = _value_at(item, path)
        if value is not None:
            out.append((path, value))
    return tuple(out) or None


def selected(field: str, item: Node, selector) -> bool:
    """True when base ``item`` of ``field`` has every (path, value) of ``selector``."""
    if not isinstance(item, MapNode):
        return False
    spec = KEYED_LISTS.get(field)
    defaults = {(k,): d for k, d in spec} if spec is not None else _IDENTITY_DEFAULTS.get(field, {})
    for path, want in selector:
        value = _value_at(item, path)
        if (defaults.get(path) if value is None else value) != want:
            return False
    return True


def key_names(field: str) -> str:
    spec = KEYED_LISTS.get(field)
    if spec is not None:
        return "+".join(k for k, _ in spec)
    return "+".join(".".join(p) for p in IDENTITY_LISTS.get(field, ()))


def describe_key(field: str, key: tuple) -> str:
    """`[name=FOO]`-style label for a keyed item, used in paths and messages."""
    spec = KEYED_LISTS.get(field)
    if spec is not None:
        return "[" + ",".join(f"{k}={v}" for (k, _), v in zip(spec, key)) + "]"
    paths = IDENTITY_LISTS.get(field, ())
    parts = [f"{'.'.join(p)}={v}" for p, v in zip(paths, key) if v is not None]
    return "[" + ",".join(parts) + "]"


def _fields_key(item: Node, spec) -> tuple | None:
    if not isinstance(item, MapNode):
        return None
    out = []
    for name, default in spec:
        v = item.items.get(name)
        if isinstance(v, ScalarNode) and v.value is not None:
            out.append(v.value)
        elif default is not None:
            out.append(default)
        else:
            return None
    return tuple(out)


def _identity_key(item: Node, paths, defaults) -> tuple | None:
    if not isinstance(item, MapNode):
        return None
    out = []
    for path in paths:
        value = _value_at(item, path)
        out.append(defaults.get(path) if value is None else value)
    return tuple(out)


def _value_at(item: Node, path: tuple[str, ...]):
    """The scalar value at ``path`` under ``item`` (None when absent or not a scalar)."""
    node: Node | None = item
    for part in path:
        node = node.items.get(part) if isinstance(node, MapNode) else None
    return node.value if isinstance(node, ScalarNode) else None
