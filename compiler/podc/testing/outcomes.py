"""Scripted pod outcomes: the ``podc.dev/emulator-outcome`` annotation and ``cluster.script`` rules.

Spec strings are ``kind[:key=value,key=value...]``; ``logs=`` must come last and takes the rest of
the string verbatim (commas included; ``\\n`` becomes a newline). Examples::

    succeed                      succeed:after=0.5,logs=hello\\nworld
    exit:code=3                  oom
    image-pull-error             evict
    node-lost                    fail-then-succeed:failures=1
    sleep
"""

from __future__ import annotations

from typing import Any

from podc._record import field, record
from podc.testing._util import dig

ANNOTATION = "podc.dev/emulator-outcome"
KINDS = ("succeed", "exit", "oom", "image-pull-error", "evict", "node-lost", "fail-then-succeed", "sleep", "process")
DEFAULT_AFTER = 0.05


@record(frozen=True)
class Outcome:
    kind: str = "succeed"
    after: float = DEFAULT_AFTER
    code: int = 1
    failures: int = 1
    logs: str = ""

    @property
    def exit_code(self) -> int:
        if self.kind == "exit":
            return self.code
        if self.kind == "oom":
            return 137
        return 0


def parse_outcome(text: str) -> Outcome:
    """Parse a spec string; ``ValueError`` with the accepted forms when it is not one."""
    text = text.strip()
    kind, _, rest = text.partition(":")
    kind = kind.strip()
    if kind not in KINDS:
        raise ValueError(f"unknown emulator outcome {kind!r}; expected one of: {', '.join(KINDS)} "
                         "(e.g. 'exit:code=3' or 'succeed:after=0.5,logs=done')")
    values: dict[str, Any] = {}
    while rest:
        if rest.startswith("logs="):
            values["logs"] = rest[5:].replace("\\n", "\n")
            break
        item, _, rest = rest.partition(",")
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq:
            raise ValueError(f"bad emulator outcome option {item!r} in {text!r}; expected key=value")
        try:
            if key == "after":
                values["after"] = float(value)
            elif key in ("code", "failures"):
                values[key] = int(value)
            else:
                raise ValueError(f"unknown option {key!r}")
        except ValueError as e:
            raise ValueError(f"bad emulator outcome option {item!r} in {text!r}: {e}") from None
    if kind == "exit" and "code" not in values:
        raise ValueError(f"emulator outcome {text!r}: 'exit' needs a code, e.g. 'exit:code=3'")
    return Outcome(kind=kind, **values)


@record
class ScriptRule:
    outcome: Outcome
    match_labels: dict[str, str] = field(default_factory=dict)
    job_name: str | None = None
    namespace: str | None = None
    pod_name_prefix: str | None = None

    def matches(self, pod: dict[str, Any]) -> bool:
        labels = dig(pod, "metadata", "labels", default={})
        if any(labels.get(k) != v for k, v in self.match_labels.items()):
            return False
        if self.job_name is not None and labels.get("batch.kubernetes.io/job-name", labels.get("job-name")) != self.job_name:
            return False
        if self.namespace is not None and pod["metadata"].get("namespace") != self.namespace:
            return False
        return self.pod_name_prefix is None or pod["metadata"]["name"].startswith(self.pod_name_prefix)


def choose_outcome(pod: dict[str, Any], rules: list[ScriptRule], default: Outcome) -> Outcome:
    """Annotation first, then the first matching rule, then ``default``.

    A malformed annotation is not silently ignored: the pod fails like a container that cannot
    start, with the parse error in its logs (see the kubelet)."""
    spec = dig(pod, "metadata", "annotations", ANNOTATION)
    if spec:
        return parse_outcome(spec)
    for rule in rules:
        if rule.matches(pod):
            return rule.outcome
    return default
