"""Strict Kubernetes schema validation for ``podc check`` (pinned schemas, 1.29 .. 1.37).

::

    from podc.check.schema import validator_for, SchemaIssue, supported_versions
    v = validator_for("1.33")          # cached per process
    issues = v.validate(doc)           # list[SchemaIssue], [] when valid

Two layers of rules, both reported as :class:`SchemaIssue`:

* ``schema.*`` -- the OpenAPI schema of that Kubernetes version, strict (unknown fields are
  errors), checked by generated predicates (:mod:`podc.check.schema_compile`) and explained by
  :mod:`podc.check.schema_explain` when they fail;
* ``api.*`` -- rules the API server enforces that the schema does not state (names, label
  syntax, quantities, requests <= limits, enum values, uniqueness, references), from
  :mod:`podc.check.apirules`.

Schemas load from ``schemas/kubernetes/`` (``podc.resources.data_path("schemas")``) on first use.
No heavy imports: ``jsonschema`` is only the reference the tests compare against.
"""

from __future__ import annotations

import _thread  # its lock is threading.Lock; importing threading costs ~1.5 ms per run
import json
from functools import lru_cache

from podc.check.schema_issue import SchemaIssue
from podc.errors import PodcError, did_you_mean

__all__ = ["SchemaIssue", "KubeValidator", "validator_for", "supported_versions", "normalize_version",
           "kinds_for", "schema_document"]


def _schema_dir():
    from podc.resources import data_path

    return data_path("schemas") / "kubernetes"


@lru_cache(maxsize=1)
def _index() -> dict:
    return json.loads((_schema_dir() / "index.json").read_text())


def supported_versions() -> list[str]:
    """Kubernetes minor versions with pinned schemas, oldest first (``["1.29", ..., "1.37"]``)."""
    return sorted(_index()["versions"], key=lambda v: tuple(int(p) for p in v.split(".")))


def normalize_version(version: str) -> str:
    """``"v1.33.2"`` -> ``"1.33"``; PodcError listing the supported versions when unknown."""
    text = str(version).strip()
    parts = text.lstrip("vV").split(".")
    minor = f"{parts[0]}.{parts[1]}" if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit() else None
    supported = supported_versions()
    if minor not in supported:
        raise PodcError.single(
            "schema.unknown-version",
            f"no pinned schema for Kubernetes version {text!r}",
            hint="supported versions: " + ", ".join(supported),
        )
    return minor  # type: ignore[return-value]


@lru_cache(maxsize=None)
def schema_document(version: str) -> dict:
    """The pinned compact schema of one (normalized) version: ``$defs`` and ``x-podc-kinds``."""
    info = _index()["versions"][version]
    return json.loads((_schema_dir() / info["file"]).read_text())


def kinds_for(version: str) -> dict[str, str]:
    """``{"batch/v1/Job": "io.k8s.api.batch.v1.Job", ...}`` for a version."""
    return dict(schema_document(normalize_version(version))["x-podc-kinds"])


def _schema_file(version: str):
    return _schema_dir() / _index()["versions"][version]["file"]


class KubeValidator:
    """Validates documents against one Kubernetes version. Get one with :func:`validator_for`.

    A valid document never needs the schema itself: the kinds table and each kind's compiled
    predicate come from :mod:`podc._data_cache` (keyed by the schema file's and the generator's
    bytes); the schema is parsed only to build them or to explain an invalid document."""

    def __init__(self, version: str):
        self.version = version
        self._depends: list[bytes] | None = None
        self._predicates: dict[str, object] = {}
        self._lock = _thread.allocate_lock()
        self._kinds: dict[str, str] = self._cached("schema-kinds", lambda: self._document()["x-podc-kinds"])

    @property
    def _defs(self) -> dict[str, dict]:
        return self._document()["$defs"]

    def _document(self) -> dict:
        return schema_document(self.version)

    def _cached(self, kind: str, build, *key: str):
        from podc.check import schema_compile
        from podc._data_cache import cached, file_digest

        if self._depends is None:
            try:
                generator = file_digest(schema_compile.__file__)
            except OSError:  # no source file (a frozen install): the version is then the key
                generator = b""
            self._depends = [file_digest(_schema_file(self.version)), generator]
        return cached(kind, [*self._depends, *key], build)

    @property
    def kinds(self) -> list[str]:
        """``"<apiVersion>/<Kind>"`` strings this validator knows."""
        return sorted(self._kinds)

    def _predicate(self, root: str):
        pred = self._predicates.get(root)
        if pred is None:
            from podc.check.schema_compile import compile_program, load_program

            with self._lock:
                pred = self._predicates.get(root)
                if pred is None:
                    program = self._cached("schema-predicate", lambda: compile_program(self._defs, root), root)
                    pred = self._predicates[root] = load_program(program)
        return pred

    def _valid(self, def_name: str, value: object) -> bool:
        return self._predicate(def_name)(value)  # type: ignore[operator]

    def schema_issues(self, doc: object) -> list[SchemaIssue]:
        """Only the OpenAPI-schema part (no API-server rules)."""
        from podc.check.schema_explain import explain, pointer, type_name

        if not isinstance(doc, dict):
            return [SchemaIssue("schema.type", f"a Kubernetes object must be a mapping, got {type_name(doc)}", "",
                                "a document needs apiVersion, kind, metadata and spec keys")]
        root = self._kinds.get(f"{doc.get('apiVersion')}/{doc.get('kind')}")
        if root is None:
            return [self._unknown_kind(doc)]
        if self._predicate(root)(doc):
            return []
        return [SchemaIssue(code, msg, pointer(path), hint)
                for code, msg, path, hint in explain(self._defs, root, doc, self._valid)]

    def definition_name(self, definition: str) -> str:
        """Full definition name for ``"Container"``, ``"PodSpec"``, ``"io.k8s.api.core.v1.Container"``."""
        if definition in self._defs:
            return definition
        matches = sorted(n for n in self._defs if n.rsplit(".", 1)[-1] == definition)
        if not matches:
            short = {n.rsplit(".", 1)[-1] for n in self._defs}
            guess = did_you_mean(definition, short)
            raise PodcError.single("schema.unknown-definition", f"no schema definition {definition!r}",
                                   hint=f'did you mean "{guess}"?' if guess else None)
        # Short names are unique among the pinned definitions (tests check it); sorted for determinism.
        return matches[0]

    def field_names(self, definition: str) -> list[str]:
        """The fields a definition allows, sorted (``field_names("Container")``)."""
        return sorted(self._defs[self.definition_name(definition)].get("properties", {}))

    def fragment_issues(self, definition: str, value: object, path: str = "", partial: bool = True) -> list[SchemaIssue]:
        """Schema issues of a fragment (a layer's raw ``Container`` or ``PodSpec`` patch).

        ``path`` is the JSON pointer of the fragment in the final document (prefixed to every
        issue). ``partial=True`` ignores missing required fields: a patch may set only some.
        """
        from podc.check.schema_explain import explain, pointer

        name = self.definition_name(definition)
        if self._predicate(name)(value):
            return []
        return [SchemaIssue(code, msg, path + pointer(p), hint)
                for code, msg, p, hint in explain(self._defs, name, value, self._valid)
                if not (partial and code == "schema.required")]

    def validate(self, doc: object) -> list[SchemaIssue]:
        """Schema issues plus API-server rule issues for one document (deterministic order)."""
        issues = self.schema_issues(doc)
        if issues and issues[0].code == "schema.unknown-kind" or not isinstance(doc, dict):
            return issues
        from podc.check.apirules import api_issues

        seen = {i.path for i in issues}
        issues.extend(i for i in api_issues(doc, self.version) if i.path not in seen)
        return issues

    def _unknown_kind(self, doc: dict) -> SchemaIssue:
        api, kind = doc.get("apiVersion"), doc.get("kind")
        known = {k.rsplit("/", 1)[1]: k.rsplit("/", 1)[0] for k in self._kinds}
        listing = ", ".join(f"{k} ({a})" for k, a in sorted(known.items()))
        if not isinstance(kind, str) or not kind:
            return SchemaIssue("schema.unknown-kind", "missing \"kind\"", "", f"podc checks: {listing}")
        if not isinstance(api, str) or not api:
            hint = f'{kind} is apiVersion "{known[kind]}"' if kind in known else f"podc checks: {listing}"
            return SchemaIssue("schema.unknown-kind", f'missing "apiVersion" for kind "{kind}"', "/apiVersion"
                               if "apiVersion" in doc else "", hint)
        if kind in known:
            return SchemaIssue("schema.unknown-kind", f'kind "{kind}" is not served as apiVersion "{api}"',
                               "/apiVersion", f'use apiVersion: {known[kind]}')
        guess = did_you_mean(kind, known)
        hint = f'did you mean "{guess}"?' if guess else f"podc checks: {listing}"
        return SchemaIssue("schema.unknown-kind",
                           f'no schema for kind "{kind}" (apiVersion "{api}") in Kubernetes {self.version}', "/kind",
                           hint)


_VALIDATORS: dict[str, KubeValidator] = {}
_VALIDATORS_LOCK = _thread.allocate_lock()


def validator_for(version: str) -> KubeValidator:
    """The (process-wide, cached) validator for a Kubernetes version like ``"1.33"``."""
    minor = normalize_version(version)
    v = _VALIDATORS.get(minor)
    if v is None:
        with _VALIDATORS_LOCK:
            v = _VALIDATORS.get(minor)
            if v is None:
                v = _VALIDATORS[minor] = KubeValidator(minor)
    return v
