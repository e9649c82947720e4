"""YAML scalars: podc's value equals kustomize's, or podc refuses with a located "quote it" error.

Every form where YAML 1.1 and 1.2 readers differ (and seeded random variations of them) is
written, plain and quoted, into four kinds of field of ONE strategic-merge patch: a string field
(env value), a string list (args), an integer field (defaultMode), a boolean field (optional) and
an annotation (kustomize keeps metadata text as written). The same patch text goes through
`kubectl kustomize` and, as a `raw.job` fragment, through podc. A case passes when podc's value
equals kustomize's, or when podc refused it with an error on that case's line whose hint says
how to quote it. Deliberate differences are listed in deliberate-differences.yaml.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from differential_support import kustomize, needs_kubectl, same_value

SEED = 20261206
FIXED = [
    "yes", "no", "on", "off", "y", "n", "Y", "N", "YES", "No", "On", "OFF",
    "true", "True", "TRUE", "false", "False", "FALSE",
    "0400", "0o400", "0O17", "0x1F", "0X1f", "0b101", "1_000", "0x_1F", "1__0", "+1", "-1", "-0", "0", "00", "007",
    "08", "09", "012345678", "0777", "-0400", "+0400",
    ".inf", "-.inf", "+.inf", ".Inf", ".nan", ".NaN", "~", "null", "Null", "NULL",
    "2001-12-14", "2001-12-14T21:59:43Z", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43", "2001-1-2",
    "2001-12-14 21:59:43.10 -5",
    "1e3", "1E3", "1.0e+3", "1e-3", "1.5", "1.10", "3.0", "0.", ".5", "+.5", "1.", "-1.5",
    "1:20", "190:20:30", "12:30:00", "1,000", "0x", "0o", "0b", "0xG", "1e", "e3", "+", ".", "_1", "1_",
    "123456789012345678901234567890", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
]


def generated(n: int) -> list[str]:
    rnd = random.Random(SEED)
    out: set[str] = set()
    while len(out) < n:
        kind = rnd.randrange(7)
        digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 6)))
        if kind == 0:
            text = "0" + digits
        elif kind == 1:
            text = rnd.choice(["0o", "0x", "0b", "0O", "0X"]) + digits
        elif kind == 2:
            text = rnd.choice(["+", "-", ""]) + digits[:1] + "_" + digits[1:] if len(digits) > 1 else digits
        elif kind == 3:
            text = digits + "." + digits[::-1] + rnd.choice(["", "e3", "E-2", "e+1"])
        elif kind == 4:
            word = rnd.choice(["true", "false", "null", "yes", "no", "on", "off", "y", "n"])
            text = "".join(c.upper() if rnd.random() < 0.5 else c for c in word)
        elif kind == 5:
            text = f"{rnd.randint(1970, 2099)}-{rnd.randint(1, 12)}-{rnd.randint(1, 28)}" + rnd.choice(
                ["", "T12:00:00Z", " 1:2:3", "t01:02:03.5+01:00"])
        else:
            text = rnd.choice(["+", "-", ""]) + rnd.choice(["", "."]) + digits + rnd.choice(["", "e5", "_0"])
        out.add(text)
    return sorted(out)


FORMS = FIXED + [g for g in generated(120) if g not in FIXED]
STYLES = ("plain", "double", "single")


def written(form: str, style: str) -> str:
    if style == "double":
        return '"' + form + '"'
    if style == "single":
        return "'" + form + "'"
    return form


def build_patch(cases: list[tuple[str, str]]) -> tuple[str, dict[int, int]]:
    """The patch text and, per 1-based line, the case index written on it."""
    lines = ["apiVersion: batch/v1", "kind: Job", "metadata:", "  name: scalars", "  annotations:"]
    at: dict[int, int] = {}

    def put(i: int, line: str) -> None:
        lines.append(line)
        at[len(lines)] = i

    for i, (form, style) in enumerate(cases):
        put(i, f"    a{i}: {written(form, style)}")
    lines += ["spec:", "  template:", "    spec:", "      containers:", "      - name: main", "        env:"]
    for i, (form, style) in enumerate(cases):
        put(i, f"        - name: E{i}")
        put(i, f"          value: {written(form, style)}")
    lines.append("        args:")
    for i, (form, style) in enumerate(cases):
        put(i, f"        - {written(form, style)}")
    lines.append("      volumes:")
    for i, (form, style) in enumerate(cases):
        put(i, f"      - name: m{i}")
        put(i, f"        configMap: {{name: c, defaultMode: {written(form, style)}}}")
        put(i, f"      - name: o{i}")
        put(i, f"        configMap: {{name: c, optional: {written(form, style)}}}")
    return "\n".join(lines) + "\n", at


BASE = ("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: scalars\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - name: main\n        image: busybox:1.36\n")


def values(job: dict, n: int) -> list[dict]:
    """Per case: the value found in each field (absent when the field is missing)."""
    meta = job.get("metadata", {}).get("annotations") or {}
    spec = job["spec"]["template"]["spec"]
    main = next(c for c in spec["containers"] if c["name"] == "main")
    env = {e["name"]: e.get("value", "<absent>") for e in main.get("env") or []}
    args = main.get("args") or []
    vols = {v["name"]: v.get("configMap", {}) for v in spec.get("volumes") or []}
    out = []
    for i in range(n):
        out.append({
            "annotation": meta.get(f"a{i}", "<absent>"),
            "env": env.get(f"E{i}", "<absent>"),
            "args": args[i] if i < len(args) else "<absent>",
            "defaultMode": vols.get(f"m{i}", {}).get("defaultMode", "<absent>"),
            "optional": vols.get(f"o{i}", {}).get("optional", "<absent>"),
        })
    return out


def podc_compile(root: Path, patch: str):
    from podc.errors import PodcError
    from podc.pipeline import compile_project

    root.mkdir(parents=True, exist_ok=True)
    (root / "podc.yaml").write_text("kind: Project\nnamespace: batch\ntargets:\n  scalars:\n    file: job.yaml\n")
    body = "".join("    " + line + "\n" for line in patch.splitlines())
    (root / "job.yaml").write_text("image: busybox:1.36\nraw:\n  job:\n" + body)
    try:
        (job,) = compile_project(root).jobs
        return job.manifest, []
    except PodcError as e:
        return None, list(e.diagnostics)


@needs_kubectl
def test_scalars_mean_what_they_mean_to_kustomize(tmp_path: Path):
    cases = [(f, s) for f in FORMS for s in STYLES]
    assert len(cases) >= 500
    patch, at = build_patch(cases)
    # podc first: the cases it refuses (located on their line) leave the comparison. The reader's
    # refusals stop a compile before the layer checks, so it takes a few rounds.
    refused: dict[int, list] = {}
    offset = 3  # "image:", "raw:", "job:" above the patch in job.yaml
    kept_idx = list(range(len(cases)))
    for round_ in range(4):
        patch2, at = build_patch([cases[i] for i in kept_idx])
        manifest, errors = podc_compile(tmp_path / f"podc{round_}", patch2)
        if not errors:
            break
        for d in errors:
            line_case = at.get(d.pos.line - offset)
            assert line_case is not None, f"an error not on a case's line: {d}"
            refused.setdefault(kept_idx[line_case], []).append(d)
        kept_idx = [i for i in kept_idx if i not in refused]
    assert manifest is not None
    for i, ds in refused.items():
        form, style = cases[i]
        assert style == "plain", f"{cases[i]}: podc refused a quoted scalar: {ds[0]}"
        for d in ds:
            assert "quote it" in (d.hint or ""), f"{cases[i]}: refused without saying how to quote it: {d}"
    kept = [cases[i] for i in kept_idx]
    ours = values(manifest, len(kept))
    theirs = values(kustomize(tmp_path / "kust", {"base.yaml": BASE}, [patch2])["scalars"], len(kept))
    differences = [(kept[i], field, ours[i][field], theirs[i][field])
                   for i in range(len(kept)) for field in ours[i]
                   if not same_value(ours[i][field], theirs[i][field])]
    assert not differences, "\n".join(map(repr, differences[:40]))
    # The refusals are the reader-dependent forms, not a blanket "no": most cases compare.
    assert len(kept) > len(cases) * 0.6
