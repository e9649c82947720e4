"""The table of bad inputs (and a few good-but-odd ones) with what podc must answer.

Positions are regexes over stderr (``jobs/hello\\.yaml:2:1``). Cases with ``subprocess=True``
go through ``python -m podc`` so the real process contract (exit code, no traceback on stderr)
is checked end to end; the rest run in-process through ``podc.cli.main.main`` to stay fast.
"""

from __future__ import annotations

from ._harness import BASE_LAYER, DELETE, DIR, JOB, PROJECT, SECRET, Case

J = "jobs/hello.yaml"
JP = r"jobs/hello\.yaml"
IMG = "image: busybox:1.36\n"
NO_POLICY = ["compile", "--no-policy"]


def alias_bomb() -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    return IMG + "raw:\n  podSpec:\n" + "".join(f"    {ln}\n" for ln in lines)


def deep_block(depth: int = 150) -> str:
    return IMG + "raw:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(depth)) + "  " * (depth + 1) + "v\n"


def project(old: str, new: str) -> str:
    assert old in PROJECT
    return PROJECT.replace(old, new)


JOB_MANIFEST = """\
apiVersion: batch/v1
kind: Job
metadata: {name: x}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
"""
JSON_JOB = ('{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x"}, "spec": {"template": {"spec": '
            '{"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox:1.36"}]}}}}\n')
CEL_POLICY = """\
policy: team
rules:
  - id: broken
    message: never compiles
    cel: "object.spec.+++"
"""
CEL_RUNTIME_POLICY = """\
policy: team
rules:
  - id: divides-by-zero
    message: m
    cel: "object.spec.backoffLimit / 0 == 1"
  - id: overflows
    message: m
    cel: "9223372036854775807 + object.spec.backoffLimit > 0"
  - id: index-out-of-range
    message: m
    cel: "podSpec.containers[5].name == 'x'"
"""

CASES: list[Case] = [
    # --- YAML level -------------------------------------------------------------------------------
    Case("malformed-yaml", {J: IMG + "command: [echo\n"}, ["compile"], where=JP + ":3:1", says=("invalid YAML",),
         subprocess=True),
    Case("duplicate-key", {J: IMG + "image: other:1\n"}, ["compile"], where=JP + ":2:1",
         says=("duplicate key 'image'", "first defined here"), subprocess=True),
    Case("tab-indentation", {J: IMG + "\tcommand: [x]\n"}, ["compile"], where=JP + ":2:1", says=("tabs",)),
    Case("unknown-yaml-tag", {J: IMG + "env: !foo {A: b}\n"}, ["compile"], where=JP + ":2:6", says=("!foo",)),
    Case("replace-tag-on-scalar", {J: "image: !replace busybox:1.36\n"}, ["compile"], where=JP + ":1:8",
         says=("!replace",)),
    Case("alias-bomb", {J: alias_bomb()}, ["compile"], where=JP, says=("alias bomb",), subprocess=True),
    Case("deep-flow-nesting", {J: IMG + "raw: {podSpec: " + "[" * 3000 + "]" * 3000 + "}\n"}, ["compile"],
         where=JP + r":2:\d+", says=("nesting deeper than",), subprocess=True),
    Case("deep-block-nesting", {J: deep_block()}, ["compile"], where=JP + r":\d+:\d+", says=("nesting deeper than",)),
    Case("multi-document-layer", {J: IMG + "---\n" + IMG}, ["compile"], where=JP + ":3:1",
         says=("expected one YAML document",)),
    Case("empty-project-file", {"podc.yaml": ""}, ["compile"], where=r"podc\.yaml:1:1", says=("no targets",)),
    Case("empty-layer-file", {J: ""}, ["compile"], says=("has no image",)),
    Case("comment-only-layer", {J: "# nothing here\n"}, ["compile"], says=("has no image",)),
    Case("null-document-layer", {J: "~\n"}, ["compile"], where=JP + ":1:1", says=("a layer file is a mapping",),
         hint=False),
    Case("binary-layer", {J: b"\x00\x01\x02\xff\xfePK\x03\x04"}, ["compile"], where=JP + ":1:4",
         says=("not valid UTF-8",), subprocess=True),
    Case("latin1-layer", {J: "image: caf\xe9\n".encode("latin-1")}, ["compile"], where=JP + ":1:11",
         says=("not valid UTF-8", "save the file as UTF-8")),
    Case("bom-layer-ok", {J: b"\xef\xbb\xbf" + JOB.encode()}, NO_POLICY, exit=0, writes=True),
    Case("bom-layer-error-position", {J: b"\xef\xbb\xbf" + IMG.encode() + b"bogus: 1\n"}, ["compile"],
         where=JP + ":2:1", says=("unknown field `bogus`",)),
    Case("crlf-layer-ok", {J: JOB.replace("\n", "\r\n").encode()}, NO_POLICY, exit=0, writes=True),
    Case("crlf-layer-error-position", {J: (IMG + "command: [x]\nbogus: 1\n").replace("\n", "\r\n").encode()},
         ["compile"], where=JP + ":3:1", says=("unknown field `bogus`",)),
    Case("json-layer-error-position", {J: '{"image": "busybox:1.36", "command": ["x"], "bogus": 1}'}, ["compile"],
         where=JP + ":1:45", says=("unknown field `bogus`",)),
    Case("file-too-big", {J: b""}, ["compile"], where=JP, says=("podc reads at most",),
         extra={"sparse": J, "size": 33 * 1024 * 1024}),
    # --- layer fields -----------------------------------------------------------------------------
    Case("unknown-field-did-you-mean", {J: IMG + "imagePullPolicyy: Always\n"}, ["compile"], where=JP + ":2:1",
         says=("did you mean `imagePullPolicy`",), subprocess=True),
    Case("wrong-types-all-reported", {J: "image: [a]\nbackoffLimit: lots\n"}, ["compile"],
         where=JP + ":2:15", says=("hello.yaml:1:8", "expected a string", "expected an integer")),
    Case("bad-quantity", {J: IMG + "resources: {limits: {memory: 2GB}}\n"}, ["compile"], where=JP + ":2:30",
         says=("expected a quantity", "2Gi")),
    Case("nan-and-inf-integers", {J: IMG + "backoffLimit: .nan\nactiveDeadlineSeconds: .inf\n"}, ["compile"],
         where=JP + ":2:15", says=("hello.yaml:3:24", "(nan)", "(inf)"), hint=False),
    Case("nan-quantity", {J: IMG + "resources: {limits: {memory: .nan, cpu: 1e400}}\n"}, ["compile"],
         where=JP + ":2:30", says=("hello.yaml:2:41", "expected a quantity")),
    Case("negative-count", {J: IMG + "parallelism: -5\n"}, ["compile"], where=JP + ":2:14", says=("0 or more",),
         hint=False),
    Case("huge-integer", {J: IMG + "backoffLimit: 99999999999999999999999999999\n"}, NO_POLICY, where=JP + ":2:15",
         hint=False),
    Case("int32-overflow", {J: IMG + "activeDeadlineSeconds: 1e30\nparallelism: 4294967296\n"}, NO_POLICY,
         where=JP + ":3:14", hint=False),
    Case("secret-default-mode-out-of-range", {J: IMG + "secrets:\n  s: {mountPath: /s, defaultMode: 99999}\n"},
         NO_POLICY, where=JP + r":3:\d+", hint=False),
    Case("check-int32-overflow", {"m.yaml": JOB_MANIFEST.replace("spec:\n  template:", "spec:\n  backoffLimit: "
                                                                  "99999999999999999999\n  template:")},
         ["check", "m.yaml", "--pss", "none"], exit=1, says=("backoffLimit",)),
    Case("keys-number-bool-null", {J: IMG + "1: x\ntrue: y\nnull: z\n"}, ["compile"], where=JP + ":2:1",
         says=("hello.yaml:3:1", "hello.yaml:4:1", "unknown field `1`", "unknown field `null`")),
    Case("unicode-job-name", {J: IMG + "name: träin-ジョブ\n"}, ["compile"], where=JP + ":2:7", says=("invalid name",),
         hint=False),
    Case("very-long-job-name", {J: IMG + "name: " + "a" * 300 + "\n"}, ["compile"], where=JP + ":2:7",
         says=("no more than",), hint=False),
    Case("pasted-kubernetes-job", {J: JOB_MANIFEST}, ["compile"], where=JP + ":2:7",
         says=("this is a Kubernetes Job", "raw:"), subprocess=True),
    Case("layer-wrong-kind", {J: "apiVersion: podc/v2\nkind: Foo\n" + IMG}, ["compile"], where=JP, says=("Foo",)),
    Case("layer-is-a-list", {J: "- image: a\n"}, ["compile"], where=JP + ":1:1", says=("a layer file is a mapping",),
         hint=False),
    Case("layer-is-a-scalar", {J: "hello\n"}, ["compile"], where=JP + ":1:1", says=("a layer file is a mapping",),
         hint=False),
    Case("delete-tag-without-key", {J: IMG + "command: [!delete x]\n"}, ["compile"], where=JP + ":2:11",
         says=("!delete",)),
    Case("delete-tag-on-secrets-mapping", {J: IMG + "secrets: !delete {name: x}\n"}, ["compile"], where=JP + r":\d+:\d+",
         says=("!delete",)),
    Case("delete-tag-on-volumes-mapping", {J: IMG + "volumes: !delete {name: x}\n"}, ["compile"], where=JP + r":\d+:\d+",
         says=("!delete",)),
    Case("delete-tag-on-init-containers", {J: IMG + "initContainers: !delete {name: x}\n"}, ["compile"],
         where=JP + r":\d+:\d+", says=("!delete",)),
    Case("delete-tag-on-sidecars", {J: IMG + "sidecars: !delete {name: x}\n"}, ["compile"], where=JP + r":\d+:\d+",
         says=("!delete",)),
    Case("delete-tag-on-env-value", {J: IMG + "env:\n  X:\n    value: !delete {name: x}\n"}, ["compile"],
         where=JP + r":\d+:\d+", says=("!delete",)),
    # --- secrets: never printed -------------------------------------------------------------------
    Case("secret-literal-policy", {J: IMG + f"env:\n  API_TOKEN: {SECRET}\n"}, ["compile"], exit=1,
         where=JP + ":3:14", says=("API_TOKEN", "literal")),
    Case("secret-in-type-error", {J: IMG + f"env:\n  API_TOKEN: [{SECRET}]\n"}, ["compile"], where=JP + ":3:14",
         hint=False, subprocess=True),
    Case("secret-in-nested-value", {J: IMG + f"env:\n  API_TOKEN: {{value: {{x: {SECRET}}}}}\n"}, ["compile"],
         where=JP + ":3:22", hint=False),
    Case("secret-with-two-forms", {J: IMG + f"env:\n  DB_PASSWORD: {{value: {SECRET}, secretKeyRef: {{name: a, key: b}}}}\n"},
         ["compile"], where=JP + r":3:\d+", says=("exactly one of", "hello.yaml:3:17")),
    Case("secret-duplicate-key", {J: IMG + f"env:\n  API_TOKEN: {SECRET}\n  API_TOKEN: {SECRET}x\n"}, ["compile"],
         where=JP + ":4:3", says=("duplicate key 'API_TOKEN'",)),
    Case("secret-bad-env-name", {J: IMG + f"env:\n  'API TOKEN=': {SECRET}\n"}, ["compile"], where=JP + ":3:3",
         says=("environment variable name",), hint=False),
    # --- extends and files ------------------------------------------------------------------------
    Case("missing-layer-file", {"layers/base.yaml": DELETE}, ["compile"], where=r"podc\.yaml:6:9",
         says=("not found",), subprocess=True),
    Case("extends-cycle", {J: "extends: [../layers/a.yaml]\n" + IMG, "layers/a.yaml": "extends: [b.yaml]\n",
                           "layers/b.yaml": "extends: [a.yaml]\n"}, ["compile"], where=r"layers/b\.yaml:1:11",
         says=("layers/a.yaml → layers/b.yaml → layers/a.yaml",), subprocess=True),
    Case("extends-itself", {J: "extends: [hello.yaml]\n" + IMG}, ["compile"], where=JP + ":1:11",
         says=("extends cycle",)),
    Case("extends-missing-file", {J: "extends: [nope.yaml]\n" + IMG}, ["compile"], where=JP + ":1:11",
         says=("not found", "jobs/nope.yaml")),
    Case("extends-wrong-type", {J: "extends: {a: 1}\n" + IMG}, ["compile"], where=JP + ":1:10", hint=False,
         says=("extends must be",)),
    Case("extends-binary-file", {J: "extends: [x.bin]\n" + IMG, "jobs/x.bin": b"\x89PNG\x00\x00"}, ["compile"],
         where=r"jobs/x\.bin:1:1", says=("not valid UTF-8",)),
    Case("layer-is-a-directory", {J: DIR}, ["compile"], where=r"podc\.yaml:10:11", says=("directory",)),
    Case("extends-a-directory", {J: "extends: [../layers]\n" + IMG}, ["compile"], where=JP + ":1:11",
         says=("directory",)),
    Case("windows-path-separator", {"podc.yaml": project("layers/base.yaml", "layers\\base.yaml")}, ["compile"],
         where=r"podc\.yaml:\d+:\d+", says=("layers\\base.yaml", "layers/base.yaml")),
    # --- project file -----------------------------------------------------------------------------
    Case("project-is-a-list", {"podc.yaml": "- a\n- b\n"}, ["compile"], where=r"podc\.yaml:1:1",
         says=("a project file is a mapping",), hint=False, subprocess=True),
    Case("project-is-a-scalar", {"podc.yaml": "hello\n"}, ["compile"], where=r"podc\.yaml:1:1",
         says=("a project file is a mapping",), hint=False),
    Case("project-is-a-directory", {"podc.yaml": DIR}, ["compile", "podc.yaml"], says=("no podc.yaml",)),
    Case("project-missing", {"podc.yaml": DELETE}, ["compile"], says=("no podc.yaml here",), subprocess=True),
    Case("project-unknown-field", {"podc.yaml": PROJECT + "targtes: {}\n"}, ["compile"], where=r"podc\.yaml:11:1",
         says=("did you mean `targets`",)),
    Case("project-kind-job", {"podc.yaml": PROJECT.replace("kind: Project", "kind: Job")}, ["compile"],
         where=r"podc\.yaml:1:7", says=("'Project'",), hint=False),
    Case("project-output-wrong-type", {"podc.yaml": project("namespace: batch", "namespace: batch\noutput: [a]")},
         ["compile"], where=r"podc\.yaml:3:9", says=("expected a string",), hint=False),
    Case("target-name-traversal", {"podc.yaml": project("  hello:", "  ../evil:")}, ["compile"],
         where=r"podc\.yaml:9:3", says=("invalid target name",), subprocess=True),
    Case("unknown-layer-name", {"podc.yaml": project("dev: [base]", "dev: [bsae]")}, ["compile"],
         where=r"podc\.yaml:6:9", says=("did you mean",)),
    # --- command line -----------------------------------------------------------------------------
    Case("unknown-command", {}, ["compil"], says=("did you mean 'compile'",), subprocess=True),
    Case("unknown-target", {}, ["compile", "--target", "helo"], says=("unknown target 'helo'", "did you mean 'hello'"),
         subprocess=True),
    Case("unknown-profile", {}, ["compile", "--profile", "prd"], says=("unknown profile 'prd'", "dev")),
    Case("bad-format", {}, ["compile", "--format", "xml"], says=("invalid choice",), subprocess=True),
    Case("out-empty-string", {}, ["compile", "--out", ""], says=("empty string",), subprocess=True),
    Case("out-is-a-file", {"somefile.txt": "user data\n"}, ["compile", "--out", "somefile.txt"],
         where=r"somefile\.txt", says=("not a folder",)),
    Case("out-below-a-file", {"somefile.txt": "user data\n"}, ["compile", "--out", "somefile.txt/sub"],
         where=r"somefile\.txt", says=("not a folder",)),
    Case("out-not-writable", {}, ["compile", "--out", "/proc/podc-qa-out"], where=r"/proc/podc-qa-out",
         says=("cannot write",), subprocess=True),
    Case("hand-written-output", {"build/hello.yaml": "# mine\nkind: Job\n"}, ["compile"],
         where=r"build/hello\.yaml", says=("did not generate",)),
    Case("hand-written-json-output", {"build/hello.json": "{}\n"}, ["compile", "--format", "json"],
         where=r"build/hello\.json", says=("did not generate",)),
    Case("output-entry-is-a-directory", {"build/hello.yaml": DIR}, ["compile"], where=r"build/hello\.yaml"),
    Case("podc-manifest-is-a-directory", {"build/.podc-manifest.json": DIR}, ["compile"],
         where=r"build/\.podc-manifest\.json", says=("not a file",), subprocess=True),
    Case("project-folder-typo", {}, ["compile", "p-typo"], where="p-typo", says=("no such file or folder",),
         subprocess=True),
    Case("layer-file-as-project", {}, ["compile", "jobs/hello.yaml"], where=JP, says=("not a project folder",)),
    Case("check-mode-missing-changed-files", {}, ["compile", "--check", "nope.yaml", "gone/nope.yaml"], exit=0),
    Case("check-mode-out-of-date", {}, ["compile", "--check"], exit=1, says=("missing",)),
    Case("stdout-with-error-prints-nothing", {J: IMG + "bogus: 1\n"}, ["compile", "--stdout"], where=JP + ":2:1"),
    # --- explain ----------------------------------------------------------------------------------
    Case("explain-on-a-cp1252-console", {}, ["explain", "hello", "spec.backoffLimit"], exit=0, subprocess=True,
         says=("spec.backoffLimit = 1  ← base",), extra={"env": {"PYTHONIOENCODING": "cp1252"}}),
    Case("stdout-unicode-on-an-ascii-console", {J: JOB + "annotations: {note: \"größe → 日本\"}\n"},
         ["compile", "--stdout", "--no-policy"], exit=0, subprocess=True, says=("größe → 日本",),
         extra={"env": {"PYTHONIOENCODING": "ascii"}}),
    Case("explain-misspelt-field", {}, ["explain", "hello", "spec.template.spec.contaners"],
         says=("did you mean 'containers'",), subprocess=True),
    Case("explain-unreadable-path", {}, ["explain", "hello", "spec[name=x]..[[0"], says=("cannot read the path",)),
    Case("explain-index-out-of-range", {}, ["explain", "hello", "/spec/template/spec/containers/99"],
         says=("no item [99]",)),
    Case("explain-unknown-target", {}, ["explain", "helo"], says=("did you mean 'hello'",)),
    Case("explain-missing-argument", {}, ["explain"], says=("required",)),
    Case("explain-masks-secrets", {J: IMG + f"env:\n  API_TOKEN: {SECRET}\n"}, ["explain", "hello"], exit=0),
    Case("explain-json-masks-secrets", {J: IMG + f"env:\n  API_TOKEN: {SECRET}\n"},
         ["explain", "hello", "--format", "json"], exit=0),
    Case("explain-masks-overridden-secrets", {"layers/base.yaml": BASE_LAYER + f"env: {{API_TOKEN: {SECRET}}}\n",
                                              J: IMG + f"env:\n  API_TOKEN: {SECRET}2\n"},
         ["explain", "hello", "--format", "json"], exit=0),
    Case("explain-masks-raw-and-init-secrets", {J: IMG + f"raw:\n  container:\n    env:\n    - name: DB_PASSWORD\n"
                                                     f"      value: {SECRET}\n" + "initContainers:\n  fetch:\n"
                                                     f"    image: busybox:1.36\n    env: {{SECRET_KEY: {SECRET}}}\n"},
         ["explain", "hello"], exit=0),
    Case("explain-missing-project", {}, ["explain", "hello", "--project", "nope"], where="nope",
         says=("no podc.yaml here",)),
    # --- submit (input is rejected before any cluster is contacted) ------------------------------
    Case("submit-binary-file", {"m.yaml": b"\x00\xff"}, ["submit", "m.yaml"], where=r"m\.yaml:1:2",
         says=("not valid UTF-8",), subprocess=True),
    Case("submit-alias-bomb", {"m.yaml": alias_bomb().replace(IMG, "apiVersion: batch/v1\nkind: Job\n")},
         ["submit", "m.yaml"], where=r"m\.yaml:\d+:\d+", says=("alias bomb",)),
    Case("submit-broken-yaml", {"m.yaml": "a: [1\n"}, ["submit", "m.yaml"], where=r"m\.yaml:2:1", hint=False),
    Case("submit-not-a-job", {"m.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"},
         ["submit", "m.yaml"], where=r"m\.yaml:1:1", says=("kind Job",)),
    Case("submit-directory-without-manifests", {"d/x": "1"}, ["submit", "d"], where="d", says=("no .yaml",)),
    Case("submit-broken-kubeconfig", {"m.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {}\n",
                                      "kc": "garbage: [\n"}, ["submit", "m.yaml", "--kubeconfig", "kc"],
         says=("cannot load the kubeconfig",), hint=False, subprocess=True),
    # --- check ------------------------------------------------------------------------------------
    Case("check-json-manifest", {"m.json": JSON_JOB}, ["check", "m.json", "--pss", "none"], exit=0,
         says=("memory-limit", "in 1 document")),
    Case("check-broken-json", {"m.json": '{"apiVersion": "batch/v1", "kind": "Job",, }'}, ["check", "m.json"],
         where=r"m\.json:1:\d+", says=("invalid YAML",), subprocess=True),
    Case("check-kind-list-unpacked", {"m.yaml": "apiVersion: v1\nkind: List\nitems:\n- apiVersion: batch/v1\n"
                                                "  kind: Jbo\n  metadata: {name: x}\n- 3\n"}, ["check", "m.yaml"],
         where=r"m\.yaml:5:9", says=("did you mean 'Job'", "m.yaml:7:3")),
    Case("check-helm-empty-documents", {"m.yaml": "---\n---\n# Source: x\n---\napiVersion: v1\nkind: ConfigMap\n"
                                                  "metadata: {name: x}\n---\n"}, ["check", "m.yaml"], exit=0),
    Case("check-unknown-kind", {"m.yaml": "apiVersion: batch/v1\nkind: Jbo\nmetadata: {name: x}\n"},
         ["check", "m.yaml"], where=r"m\.yaml:2:7", says=("did you mean 'Job'",), subprocess=True),
    Case("check-missing-kind", {"m.yaml": "metadata: {name: x}\n"}, ["check", "m.yaml"], where=r"m\.yaml:1:1"),
    Case("check-scalar-documents", {"m.yaml": "hello\n---\n- 1\n"}, ["check", "m.yaml"], where=r"m\.yaml:1:1",
         says=("m.yaml:3:1",), hint=False),
    Case("check-errors-of-all-documents", {"m.yaml": "a: [1\n---\nb: 1\nb: 2\n"}, ["check", "m.yaml"],
         where=r"m\.yaml:2:1", says=("m.yaml:4:1", "duplicate key")),
    Case("check-missing-file", {}, ["check", "nope.yaml"], where=r"nope\.yaml", says=("not found",), subprocess=True),
    Case("check-binary-file", {"m.yaml": b"\x00\x01\xff"}, ["check", "m.yaml"], where=r"m\.yaml:1:3",
         says=("not valid UTF-8",)),
    Case("check-folder-without-manifests", {"empty/x.txt": "a"}, ["check", "empty"], says=("no podc.yaml",)),
    Case("check-endless-device", {}, ["check", "/dev/zero"], where="/dev/zero", says=("podc reads at most",),
         subprocess=True),
    Case("check-symlink-loop", {}, ["check", "loop.yaml"], where=r"loop\.yaml", says=("symbolic links",), hint=False,
         extra={"symlink": ("loop.yaml", "loop.yaml")}),
    Case("extends-symlink-loop", {J: "extends: [loop.yaml]\n" + IMG}, ["compile"], where=JP + ":1:11",
         extra={"symlink": ("jobs/loop.yaml", "loop.yaml")}),
    Case("check-path-too-long", {}, ["check", "a" * 5000], says=("aaaa…aaaa", "File name too long"),
         subprocess=True),
    Case("out-path-too-long", {}, ["compile", "--out", "b" * 5000], says=("…bbbb", "File name too long")),
    Case("explain-project-path-too-long", {}, ["explain", "hello", "--project", "c" * 5000],
         says=("cccc…cccc", "File name too long")),
    Case("check-broken-policy-file", {"pol.yaml": "rules: [\n"}, ["check", "--policy", "pol.yaml"],
         where=r"pol\.yaml:2:1", says=("invalid YAML",)),
    Case("check-cel-does-not-compile", {"pol.yaml": CEL_POLICY}, ["check", "--policy", "pol.yaml"],
         where=r"pol\.yaml:5:\d+", says=("CEL expression does not compile",), subprocess=True),
    Case("check-cel-runtime-errors-fail-the-rule", {"pol.yaml": CEL_RUNTIME_POLICY}, ["check", "--policy", "pol.yaml"],
         exit=1, says=("CEL evaluation failed: division by zero", "overflow", "index out of bounds"), subprocess=True),
    Case("check-unknown-policy-id", {"podc.yaml": PROJECT + "policies:\n  bestPractices: {disable: [memory-limt]}\n"},
         ["check"], where=r"podc\.yaml:12:29", says=("did you mean 'memory-limit'",)),
    Case("check-rule-id-not-a-string", {"podc.yaml": PROJECT + "policies:\n  bestPractices:\n    disable: [!delete {a: b}]\n"},
         ["check"], where=r"podc\.yaml:13:15", says=("a rule id is a string",), hint=False, subprocess=True),
    Case("compile-param-wrong-type", {"podc.yaml": PROJECT + "policies:\n  bestPractices:\n    params: "
                                                             "{backoff-limit: {max: []}}\n"},
         ["compile"], where=r"podc\.yaml:13:\d+", says=("expected a whole number",)),
    Case("check-required-labels-wrong-type", {"podc.yaml": PROJECT + "policies:\n  bestPractices:\n    "
                                                                     "requiredLabels: [!delete {a: b}]\n"},
         ["check"], where=r"podc\.yaml:13:\d+", says=("expected a list of strings",)),
    Case("check-unknown-exception-rule", {"podc.yaml": PROJECT + "policies:\n  exceptions:\n    - {policy: pod-security, "
                                                                 "rule: privilegd, reason: x}\n"},
         ["check"], where=r"podc\.yaml:13:\d+", says=("privilegd", "did you mean 'privileged'")),
    Case("check-unknown-exception-policy", {"podc.yaml": PROJECT + "policies:\n  exceptions:\n    - {policy: pod-securty, "
                                                                   "rule: privileged, reason: x}\n"},
         ["check"], where=r"podc\.yaml:13:7", says=("pod-securty", "pod-security")),
    Case("check-exception-pss-alias", {"podc.yaml": PROJECT + "policies:\n  exceptions:\n    - {policy: pss, "
                                                              "rule: runAsNonRoot, reason: x}\n"}, ["check"], exit=0),
    Case("check-exception-pss-alias-bad-rule", {"podc.yaml": PROJECT + "policies:\n  exceptions:\n    - {policy: pss, "
                                                                       "rule: runAsNonRot, reason: x}\n"},
         ["check"], where=r"podc\.yaml:13:7", says=("did you mean 'runAsNonRoot'",)),
    Case("check-bad-pss-level", {}, ["check", "--pss", "strict"], says=("did you mean",)),
    Case("check-bad-kubernetes-version", {}, ["check", "--kubernetes-version", "9.99"], says=("supported versions",)),
    Case("check-empty-kubernetes-version", {}, ["check", "--kubernetes-version", ""], says=("empty string",)),
    Case("check-empty-output", {}, ["check", "--output", ""], says=("empty string",)),
    Case("check-bad-format", {}, ["check", "--format", "xml"], says=("invalid choice",)),
    Case("check-output-is-the-input", {"m.yaml": JOB_MANIFEST}, ["check", "m.yaml", "--output", "m.yaml"],
         says=("is one of the inputs",)),
    Case("check-output-is-the-project", {}, ["check", "--output", "podc.yaml"], says=("is one of the inputs",),
         subprocess=True),
    Case("check-output-is-a-policy", {"pol.yaml": CEL_RUNTIME_POLICY}, ["check", "--policy", "pol.yaml", "-o", "pol.yaml"],
         says=("is one of the inputs",)),
    Case("check-output-is-a-directory", {"outdir/x": "1"}, ["check", "--output", "outdir"], exit=2, hint=False,
         says=("cannot write",)),
    Case("check-unknown-target", {}, ["check", "--target", "helo"], says=("did you mean 'hello'",)),
    Case("check-unknown-profile", {}, ["check", "--profile", "prd"], says=("unknown profile 'prd'",)),
    Case("check-sarif-redacts-secrets", {"m.yaml": JOB_MANIFEST + f"        env:\n        - name: DB_PASSWORD\n"
                                                                  f"          value: {SECRET}\n          bogus: {SECRET}\n"},
         ["check", "m.yaml", "--format", "sarif"], exit=1),
    Case("check-project-is-a-list", {"podc.yaml": "- a\n"}, ["check"], where=r"podc\.yaml:1:1", hint=False),
    Case("check-secret-in-schema-errors", {"m.yaml": JOB_MANIFEST + f"        env:\n        - name: API_TOKEN\n"
                                                                    f"          value: {SECRET}\n          valueFrom: 3\n"
                                                                    f"        - name: DB_PASSWORD\n          value: [{SECRET}]\n"},
         ["check", "m.yaml", "--format", "json"], exit=1),
]

_names = [c.name for c in CASES]
assert len(_names) == len(set(_names)), "case names must be unique"
__all__ = ["CASES", "BASE_LAYER"]
