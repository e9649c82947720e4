"""Each friendly field lands at its Kubernetes place, converted, with origins at the source."""

import pytest

from podc.tree import MapNode, SeqNode, to_plain

POD = ("spec", "template", "spec")
MAIN = POD + ("containers", 0)


def get(node, *path):
    for seg in path:
        node = node.items[seg] if isinstance(seg, int) else node.items[seg]
    return node


def pos(node):
    return (node.origin.pos.line, node.origin.pos.col)


def test_metadata_and_job_controls(job):
    tree = job("""\
        name: train
        namespace: ml
        backoffLimit: 2
        activeDeadlineSeconds: 60
        ttlSecondsAfterFinished: 10
        parallelism: 2
        completions: 4
        completionMode: Indexed
        suspend: true
        backoffLimitPerIndex: 1
        maxFailedIndexes: 1
        podReplacementPolicy: Failed
        podFailurePolicy: {rules: [{action: Ignore, onPodConditions: [{type: DisruptionTarget}]}]}
        """)
    plain = to_plain(tree)
    assert plain["metadata"] == {"name": "train", "namespace": "ml"}
    assert plain["spec"] == {
        "backoffLimit": 2, "activeDeadlineSeconds": 60, "ttlSecondsAfterFinished": 10, "parallelism": 2,
        "completions": 4, "completionMode": "Indexed", "suspend": True, "backoffLimitPerIndex": 1,
        "maxFailedIndexes": 1, "podReplacementPolicy": "Failed",
        "podFailurePolicy": {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]},
    }
    assert pos(get(tree, "metadata", "name")) == (1, 7)
    assert pos(get(tree, "spec", "podFailurePolicy", "rules", 0, "action")) == (13, 37)
    assert "apiVersion" not in plain and "kind" not in plain


def test_labels_go_to_job_and_pod_and_specific_ones_to_one_place(job):
    tree = job("""\
        labels: {team: ml, version: 2}
        jobLabels: {kind: batch}
        podLabels: {sidecar: "no"}
        annotations: {note: hi, enabled: true}
        jobAnnotations: {j: "1"}
        podAnnotations: {p: "2"}
        """)
    plain = to_plain(tree)
    assert plain["metadata"] == {"labels": {"team": "ml", "version": "2", "kind": "batch"},
                                 "annotations": {"note": "hi", "enabled": "true", "j": "1"}}
    assert plain["spec"]["template"]["metadata"] == {"labels": {"team": "ml", "version": "2", "sidecar": "no"},
                                                     "annotations": {"note": "hi", "enabled": "true", "p": "2"}}
    converted = get(tree, "spec", "template", "metadata", "labels", "version")
    assert converted.value == "2" and pos(converted) == (1, 29)


def test_label_directives_and_null(job):
    tree = job("labels: !replace {a: b}\npodAnnotations: null\n")
    assert get(tree, "metadata", "labels").directive == "replace"
    assert get(tree, "spec", "template", "metadata", "labels").directive == "replace"
    assert get(tree, "spec", "template", "metadata", "annotations").value is None


def test_main_container_fields(job):
    tree = job("""\
        image: busybox:1.36
        imagePullPolicy: Always
        command: [sh, -c]
        args: [--n, 5, 0.5, true]
        workingDir: /w
        ports: [{containerPort: 80}]
        securityContext: {runAsUser: 1000}
        resources:
          requests: {cpu: 2, memory: 1Gi}
          limits: {cpu: 0.5}
        """)
    main = get(tree, *MAIN)
    assert to_plain(main) == {
        "name": "main", "image": "busybox:1.36", "imagePullPolicy": "Always", "command": ["sh", "-c"],
        "args": ["--n", "5", "0.5", "true"], "workingDir": "/w", "ports": [{"containerPort": 80}],
        "securityContext": {"runAsUser": 1000},
        "resources": {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "0.5"}},
    }
    assert pos(get(main, "args", 1)) == (4, 13)
    assert pos(get(main, "resources", "requests", "cpu")) == (9, 19)
    assert pos(get(main, "name")) == (1, 1)  # the container exists because of `image`


def test_container_name_from_layer_or_project(job):
    tree = job("image: x\ncontainer: app\n")
    assert pos(get(tree, *MAIN, "name")) == (2, 12)
    assert get(tree, *MAIN, "name").value == "app"
    assert get(job("image: x\n", container="trainer"), *MAIN, "name").value == "trainer"
    assert get(job("image: x\ncontainer: own\n", container="trainer"), *MAIN, "name").value == "own"


def test_env_every_form(job):
    tree = job("""\
        env:
          PLAIN: text
          NUM: 3
          FLAG: false
          LIT: {value: 1.5}
          EMPTY: {value: null}
          VF: {valueFrom: {fieldRef: {fieldPath: metadata.name}}}
          SEC: {secretKeyRef: {name: db, key: pw}}
          CM: {configMapKeyRef: {name: cfg, key: mode, optional: true}}
          FR: {fieldRef: {fieldPath: status.podIP}}
          RF: {resourceFieldRef: {resource: limits.cpu, divisor: 1m}}
          GONE: null
        """)
    env = get(tree, *MAIN, "env")
    assert to_plain(env) == [
        {"name": "PLAIN", "value": "text"},
        {"name": "NUM", "value": "3"},
        {"name": "FLAG", "value": "false"},
        {"name": "LIT", "value": "1.5"},
        {"name": "EMPTY", "value": ""},
        {"name": "VF", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "SEC", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}},
        {"name": "CM", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode", "optional": True}}},
        {"name": "FR", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "RF", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}},
        {"name": "GONE"},
    ]
    assert [i.directive for i in env.items].count("delete") == 1 and env.items[-1].directive == "delete"
    assert pos(get(env, 1, "name")) == (3, 3)  # the key NUM
    assert pos(get(env, 1, "value")) == (3, 8)  # the 3
    assert pos(get(env, 6, "valueFrom", "secretKeyRef", "key")) == (8, 39)


def test_env_list_form_and_replace(job):
    tree = job("""\
        env: !replace
          - {name: A, value: 1}
          - {name: B, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
          - {name: C, $patch: delete}
        """)
    env = get(tree, *MAIN, "env")
    assert env.directive == "replace"
    assert to_plain(env) == [{"name": "A", "value": "1"},
                             {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                             {"name": "C"}]
    assert env.items[2].directive == "delete"
    assert pos(get(env, 0, "value")) == (2, 22)


def test_env_map_replace_directive(job):
    env = get(job('env: !replace {A: "1"}\n'), *MAIN, "env")
    assert isinstance(env, SeqNode) and env.directive == "replace"


def test_env_from_and_null_fields(job):
    tree = job("""\
        envFrom: [{configMapRef: {name: c}}, {secretRef: {name: s}, $patch: delete}]
        image: null
        """)
    main = get(tree, *MAIN)
    assert to_plain(get(main, "envFrom")) == [{"configMapRef": {"name": "c"}}, {"secretRef": {"name": "s"}}]
    assert get(main, "envFrom").items[1].directive == "delete"
    assert get(main, "image").value is None


def test_pod_fields(job):
    tree = job("""\
        nodeSelector: {pool: gpu, gen: 3}
        affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: []}}
        tolerations:
          - {key: gpu, operator: Exists}
          - {key: old, $patch: delete}
        topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]
        podSecurityContext: {runAsNonRoot: true}
        serviceAccountName: sa
        automountServiceAccountToken: false
        imagePullSecrets: [regcred, {name: other}]
        priorityClassName: low
        schedulerName: s
        restartPolicy: OnFailure
        hostAliases: [{ip: 10.0.0.1, hostnames: [a]}]
        dnsPolicy: Default
        terminationGracePeriodSeconds: 5
        """)
    pod = to_plain(get(tree, *POD))
    assert pod == {
        "nodeSelector": {"pool": "gpu", "gen": "3"},
        "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}},
        "tolerations": [{"key": "gpu", "operator": "Exists"}, {"key": "old"}],
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}],
        "securityContext": {"runAsNonRoot": True},
        "serviceAccountName": "sa", "automountServiceAccountToken": False,
        "imagePullSecrets": [{"name": "regcred"}, {"name": "other"}],
        "priorityClassName": "low", "schedulerName": "s", "restartPolicy": "OnFailure",
        "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["a"]}], "dnsPolicy": "Default",
        "terminationGracePeriodSeconds": 5,
    }
    assert get(tree, *POD, "tolerations").items[1].directive == "delete"
    assert pos(get(tree, *POD, "imagePullSecrets", 0, "name")) == (10, 20)
    assert "containers" not in pod  # no container field, no container


def test_source_nodes_are_reused_not_copied(norm):
    patches, _ = norm("affinity: {nodeAffinity: {}}\n")
    affinity = get(patches[0][0], *POD, "affinity")
    assert isinstance(affinity, MapNode) and pos(affinity) == (1, 11)


def test_output_is_deterministic_and_input_untouched(norm):
    from podc.errors import Diagnostics
    from podc.normalize import normalize_layer
    from podc.source import load_text

    text = "env: {B: 1, A: 2}\nvolumes: {z: {emptyDir: {}, mountPath: /z}, a: {emptyDir: {}, mountPath: /a}}\n"
    node = load_text(text, "l.yaml", layer="L")[0]
    before = to_plain(node)
    first = [(to_plain(t), m) for t, m in normalize_layer(node, Diagnostics())]
    second = [(to_plain(t), m) for t, m in normalize_layer(node, Diagnostics())]
    assert first == second
    assert to_plain(node) == before and node.items["env"].items["B"].value == 1
    env = first[0][0]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert [e["name"] for e in env] == ["B", "A"]  # source order, not sorted


def test_delete_directive_on_an_entry_of_a_friendly_map_deletes_that_item(job):
    tree = job("""\
        env:
          OLD: !delete {}
        volumes:
          gone: {$patch: delete}
        """)
    assert get(tree, *MAIN, "env").items[0].directive == "delete"
    assert get(tree, *POD, "volumes").items[0].directive == "delete"


@pytest.mark.parametrize("text, line", [
    # a `!delete` mapping here used to pass through and emit `activeDeadlineSeconds: {}` or delete
    # nothing at all (merge only drops null-like values): `key: null` is the way
    ("activeDeadlineSeconds: {$patch: delete}\n", 1),
    ("image: x\nresources: !delete {}\n", 2),
    ("secrets: !delete {name: x}\n", 1),  # used to crash normalize (qa-compiler-bugs.md #4)
    ("env:\n  X:\n    value: !delete {name: x}\n", 3),
])
def test_delete_directive_on_a_whole_field_is_an_error_not_a_crash(norm, text, line):
    patches, diags = norm(text)
    assert [d.code for d in diags] == ["layer.directive"] and diags[0].pos.line == line
    assert "null" in diags[0].hint
