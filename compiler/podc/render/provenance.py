"""``podc explain``: blame for a compiled Job. Which layer set each value, and what it replaced.

Field paths are accepted as JSON pointers (``/spec/template/spec/containers/0/image``) or dotted
paths with keyed list segments (``spec.template.spec.containers[name=main].image``, ``env[0]``).
Values of environment variables that look secret (by name or by value, :mod:`podc.kube.secrets`)
are shown as ``****``; any other value has its secret-looking parts (a password in a URL, a token
in an argument) replaced, current and overridden values alike.
"""

from __future__ import annotations

import re
from typing import Any

from podc._record import record
from podc.errors import PodcError, Pos, did_you_mean
from podc.kube.secrets import MASK as SECRET_MASK, looks_secret, redact_text
from podc.render.compiled import CompiledJob


__all__ = ["ExplainRecord", "explain", "resolve_field_path", "display_path", "source_text_at", "MASK"]

MASK = SECRET_MASK
# List items are shown by the field that identifies them, as the merge keys them.
_ITEM_KEYS = ("name", "mountPath", "devicePath", "ip", "topologyKey")


@record(frozen=True)
class ExplainRecord:
    pointer: str  # JSON pointer
    path: str  # dotted, keyed path
    value: Any  # masked when secret-looking
    layer: str
    pos: Pos
    overrides: tuple[tuple[str, Pos, str | None], ...]  # (layer, pos, old value as written)

    def to_json(self) -> dict:
        return {"pointer": self.pointer, "path": self.path, "value": self.value, "layer": self.layer,
                "source": self.pos.to_json(),
                "overrides": [{"layer": layer, "source": pos.to_json(), "value": old}
                              for layer, pos, old in self.overrides]}


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _esc(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


_LIST_KEYS = {"volumeMounts": "mountPath", "volumeDevices": "devicePath", "hostAliases": "ip",
              "ports": "containerPort"}


def _item_label(item: Any, index: int, list_key: str = "") -> str:
    if isinstance(item, dict):
        k = _LIST_KEYS.get(list_key, "name")
        v = item.get(k)
        if isinstance(v, (str, int)) and not isinstance(v, bool):
            return f"[{k}={v}]"
    return f"[{index}]"


def display_path(manifest: Any, pointer: str) -> str:
    out = ""
    node = manifest
    parent_key = ""
    for token in pointer.split("/")[1:]:
        key = _unescape(token)
        if isinstance(node, list):
            i = int(key)
            out += _item_label(node[i], i, parent_key) if 0 <= i < len(node) else f"[{key}]"
            node = node[i] if 0 <= i < len(node) else None
        else:
            out += ("." if out else "") + (key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else f'"{key}"')
            node = node.get(key) if isinstance(node, dict) else None
            parent_key = key
    return out


_SEGMENT = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|([^.\[\]"]+))((?:\[[^\]]*\])*)')


def resolve_field_path(manifest: Any, field_path: str) -> str:
    """A JSON pointer for ``field_path`` (pointer or dotted) in ``manifest``; PodcError if absent."""
    text = field_path.strip()
    if text in ("", "/", "."):
        return ""
    if text.startswith("/"):
        tokens = [_unescape(t) for t in text.split("/")[1:]]
        return _walk_tokens(manifest, [(t, None) for t in tokens], field_path)
    steps: list[tuple[str, str | None]] = []
    pos = 0
    while pos < len(text):
        m = _SEGMENT.match(text, pos)
        if not m or m.end() == pos:
            raise _bad_path(field_path, f"cannot read the path at {text[pos:]!r}")
        key = m.group(1) if m.group(1) is not None else m.group(2).strip()
        steps.append((key, None))
        for sel in re.findall(r"\[([^\]]*)\]", m.group(3)):
            steps.append(("", sel))
        pos = m.end()
        if pos < len(text):
            if text[pos] != ".":
                raise _bad_path(field_path, f"expected '.' at {text[pos:]!r}")
            pos += 1
    return _walk_tokens(manifest, steps, field_path)


def _walk_tokens(manifest: Any, steps: list[tuple[str, str | None]], original: str) -> str:
    node, pointer = manifest, ""
    for key, selector in steps:
        if selector is None and isinstance(node, list):
            selector = key
        if selector is not None:
            if not isinstance(node, list):
                raise _bad_path(original, f"{display_path(manifest, pointer) or 'the Job'} is not a list")
            index = _select(node, selector)
            if index is None:
                labels = [_item_label(it, i, _last_key(pointer)) for i, it in enumerate(node)]
                raise _bad_path(original, f"no item [{selector}] in {display_path(manifest, pointer)}",
                                f"items: {', '.join(labels)}")
            node, pointer = node[index], f"{pointer}/{index}"
            continue
        if not isinstance(node, dict) or key not in node:
            choices = list(node) if isinstance(node, dict) else []
            guess = did_you_mean(key, choices)
            where = display_path(manifest, pointer) or "the Job"
            raise _bad_path(original, f"{where} has no field {key!r}",
                            f"did you mean {guess!r}?" if guess else (f"fields: {', '.join(choices)}" if choices else None))
        node, pointer = node[key], f"{pointer}/{_esc(key)}"
    return pointer


def _last_key(pointer: str) -> str:
    return _unescape(pointer.rsplit("/", 1)[-1]) if pointer else ""


def _select(items: list, selector: str) -> int | None:
    selector = selector.strip()
    if re.fullmatch(r"-?\d+", selector):
        i = int(selector)
        return i if 0 <= i < len(items) else None
    k, eq, v = selector.partition("=")
    if not eq:
        k, v = "name", selector
    for i, item in enumerate(items):
        if isinstance(item, dict) and str(item.get(k.strip())) == v.strip().strip("'\""):
            return i
    return None


def _bad_path(path: str, message: str, hint: str | None = None) -> PodcError:
    return PodcError.single("explain.bad-path", f"{message} (in field path {path!r})",
                            hint=hint or "use a JSON pointer (/spec/template/spec/containers/0/image) or a dotted "
                                         "path (spec.template.spec.containers[name=main].image)")


_file_lines: dict[str, list[str]] = {}


def source_text_at(pos: Pos) -> str | None:
    """The scalar written at ``pos`` (a YAML value as written), or None when unreadable."""
    if not pos.file or not pos.line:
        return None
    lines = _file_lines.get(pos.file)
    if lines is None:
        try:
            with open(pos.file, encoding="utf-8-sig") as f:
                lines = f.read().splitlines()
        except OSError:
            return None
        _file_lines[pos.file] = lines
    if pos.line > len(lines):
        return None
    rest = lines[pos.line - 1][max(pos.col - 1, 0):]
    if rest[:1] in ('"', "'"):
        q = rest[0]
        end = 1
        while end < len(rest):
            if rest[end] == "\\" and q == '"':
                end += 2
                continue
            if rest[end] == q:
                if q == "'" and rest[end + 1: end + 2] == "'":
                    end += 2
                    continue
                return rest[: end + 1]
            end += 1
        return rest
    # A plain scalar cannot hold ": " or " #": at a key's position this leaves just the key.
    for stop in (" #", ": "):
        i = rest.find(stop)
        if i >= 0:
            rest = rest[:i]
    if rest.endswith(":"):
        rest = rest[:-1]
    before = lines[pos.line - 1][: max(pos.col - 1, 0)]
    if "[" in before or "{" in before:  # inside a flow collection: the value ends at , ] or }
        cut = [j for j in (rest.find(","), rest.find("]"), rest.find("}")) if j >= 0]
        if cut:
            rest = rest[: min(cut)]
    return rest.rstrip() or None


def _secret_pointers(manifest: dict) -> set[str]:
    """Pointers of literal env values that look secret (by name or by value), in every container."""
    out: set[str] = set()
    pod = ((manifest.get("spec") or {}).get("template") or {}).get("spec") or {}
    for list_name in ("initContainers", "containers", "ephemeralContainers"):
        for i, c in enumerate(pod.get(list_name) or []):
            for j, e in enumerate((c or {}).get("env") or []):
                if isinstance(e, dict) and "value" in e and looks_secret(e.get("name"), e.get("value")):
                    out.add(f"/spec/template/spec/{list_name}/{i}/env/{j}/value")
    return out


def explain(job: CompiledJob, field_path: str | None = None) -> list[ExplainRecord]:
    """One record per leaf under ``field_path`` (the whole Job when None), in document order."""
    pointer = resolve_field_path(job.manifest, field_path) if field_path else ""
    node: Any = job.manifest
    for token in pointer.split("/")[1:]:
        node = node[int(token)] if isinstance(node, list) else node[_unescape(token)]
    secrets = _secret_pointers(job.manifest)
    records: list[ExplainRecord] = []
    _collect(job, node, pointer, secrets, records)
    return records


def _collect(job: CompiledJob, node: Any, pointer: str, secrets: set[str], out: list[ExplainRecord]) -> None:
    if isinstance(node, dict) and node:
        for k, v in node.items():
            _collect(job, v, f"{pointer}/{_esc(k)}", secrets, out)
        return
    if isinstance(node, list) and node:
        for i, v in enumerate(node):
            _collect(job, v, f"{pointer}/{i}", secrets, out)
        return
    origin = job.locate(pointer)
    secret = pointer in secrets
    value = MASK if secret else redact_text(node) if isinstance(node, str) else node
    history = origin.overridden if origin else ()
    if _is_item_key(pointer):
        history = ()  # a keyed list item's key is repeated by every layer that patches the item
    overrides = tuple((layer, pos, MASK if secret else _shown_text(source_text_at(pos))) for layer, pos in history)
    out.append(ExplainRecord(pointer, display_path(job.manifest, pointer), value,
                             origin.layer if origin else "?", origin.pos if origin else Pos(), overrides))


def _shown_text(text: str | None) -> str | None:
    return redact_text(text) if text is not None else None


def _is_item_key(pointer: str) -> bool:
    parts = pointer.split("/")
    if len(parts) < 4 or not parts[-2].isdigit():
        return False
    return parts[-1] == _LIST_KEYS.get(_unescape(parts[-3]), "name")


def format_records(records: list[ExplainRecord], cwd: str | None = None) -> str:
    import json
    import os

    cwd = os.getcwd() if cwd is None else cwd
    lines = []
    for r in records:
        shown = r.value if r.value == MASK else json.dumps(r.value, ensure_ascii=False)
        lines.append(f"{r.path or '(job)'} = {shown}  ← {r.layer}  {r.pos.display(cwd)}")
        for layer, pos, old in r.overrides:
            lines.append(f"    overrides: {layer}  {pos.display(cwd)} = {old if old is not None else '?'}")
    return "\n".join(lines)
