"""Bad layers give located diagnostics: code, position, message and hint; all of them at once."""

import pytest


def at(d):
    return (d.pos.line, d.pos.col)


def only(diags, code=None):
    assert len(diags) == 1, [f"{d.pos} {d.code} {d.message}" for d in diags]
    if code:
        assert diags[0].code == code
    return diags[0]


def test_unknown_top_level_field_points_at_key_with_suggestion(layer):
    spec, diags = layer("""\
        image: busybox
        tolerationz:
          - {key: gpu, operator: Exists}
        """)
    assert spec is None
    d = only(diags, "layer.unknown-field")
    assert at(d) == (2, 1)
    assert d.pos.file == "layer.yaml"
    assert "tolerationz" in d.message
    assert d.hint == "did you mean `tolerations`?"


def test_unknown_nested_field_in_list_item(layer):
    _, diags = layer("""\
        tolerations:
          - key: gpu
            operatr: Exists
        """)
    d = only(diags, "layer.unknown-field")
    assert at(d) == (3, 5)
    assert d.path == "tolerations[0].operatr"
    assert d.hint == "did you mean `operator`?"


def test_unknown_field_inside_tagged_union_variant_suggests_from_that_variant(layer):
    _, diags = layer("""\
        volumes:
          cache:
            emptyDir: {sizeLimt: 1Gi}
        """)
    d = only(diags, "layer.unknown-field")
    assert at(d) == (3, 16)
    assert d.hint == "did you mean `sizeLimit`?"


def test_unknown_field_without_close_match_lists_allowed_fields(layer):
    _, diags = layer("""\
        secrets:
          db: {mountPath: /x, zzzz: 1}
        """)
    d = only(diags, "layer.unknown-field")
    assert d.hint.startswith("allowed here: ") and "mountPath" in d.hint


def test_wrong_type_reports_expected_and_got_at_value(layer):
    _, diags = layer("image: 5\n")
    d = only(diags, "layer.type")
    assert at(d) == (1, 8)
    assert d.message == "expected a string, got a number (5)"
    assert "quote" in d.hint


def test_quoted_number_for_integer_field(layer):
    _, diags = layer('backoffLimit: "3"\n')
    d = only(diags, "layer.type")
    assert d.message == "expected an integer, got a string"
    assert d.hint == "write the number without quotes"


def test_negative_job_control(layer):
    _, diags = layer("parallelism: -1\n")
    d = only(diags, "layer.value")
    assert "0 or more" in d.message


def test_bad_quantity_points_at_value_with_example(layer):
    _, diags = layer("""\
        resources:
          requests:
            cpu: 500m
            memory: 2GB
        """)
    d = only(diags, "layer.quantity")
    assert at(d) == (4, 13)
    assert "2GB" in d.message and '"512Mi"' in d.message
    assert d.hint == 'Kubernetes writes bytes without "B": 2G or 2Gi'
    assert d.path == "resources.requests.memory"


@pytest.mark.parametrize("value, hint", [
    ("512mb", '512M or 512Mi'),
    ("1KB", '1k or 1Ki'),
    ("lots", 'memory: "512Mi"'),
])
def test_quantity_hints(layer, value, hint):
    _, diags = layer(f"resources: {{limits: {{memory: {value}}}}}\n")
    assert hint in only(diags, "layer.quantity").hint


def test_two_volume_sources_in_one_layer(layer):
    _, diags = layer("""\
        volumes:
          data:
            emptyDir: {}
            persistentVolumeClaim: {claimName: data}
            mountPath: /data
        """)
    d = only(diags, "layer.volume-source")
    assert at(d) == (4, 5)
    assert "`emptyDir` and `persistentVolumeClaim`" in d.message
    assert [(p.line, p.col) for p, _ in d.related] == [(3, 5)]


def test_volume_without_source_suggests_misspelt_source(layer):
    _, diags = layer("""\
        volumes:
          data: {emptydir: {}, mountPath: /data}
        """)
    d = only(diags, "layer.volume-source")
    assert "no source" in d.message
    assert d.hint == "did you mean `emptyDir`?"


def test_volume_that_is_not_a_mapping(layer):
    _, diags = layer("volumes: {data: /tmp}\n")
    d = only(diags)
    assert d.code == "layer.type" and at(d) == (1, 17)


def test_env_entry_with_two_forms(layer):
    _, diags = layer("""\
        env:
          TOKEN: {value: x, secretKeyRef: {name: s, key: k}}
        """)
    d = only(diags, "layer.env-form")
    assert at(d) == (2, 21)  # the second form
    assert [(p.line, p.col) for p, _ in d.related] == [(2, 11)]
    assert "exactly one of" in d.message and "found `value` and `secretKeyRef`" in d.message
    assert "secretKeyRef" in d.hint


def test_env_entry_empty_mapping_and_list_value(layer):
    _, diags = layer("""\
        env:
          A: {}
          B: [1, 2]
        """)
    assert [(d.code, at(d)) for d in diags] == [("layer.env-form", (2, 6)), ("layer.type", (3, 6))]
    assert diags[0].message.endswith("found none")
    assert "got a list" in diags[1].message


def test_env_entry_with_misspelt_form(layer):
    _, diags = layer("env:\n  A: {secretKeyref: {name: s, key: k}}\n")
    d = only(diags, "layer.env-form")
    assert d.hint == "did you mean `secretKeyRef`?"


def test_env_list_item_with_value_and_value_from(layer):
    _, diags = layer("""\
        env:
          - name: A
            value: x
            valueFrom: {fieldRef: {fieldPath: metadata.name}}
        """)
    d = only(diags, "layer.env-form")
    assert at(d) == (4, 5)


def test_env_as_string_is_a_shape_error(layer):
    _, diags = layer("env: FOO=bar\n")
    d = only(diags, "layer.type")
    assert "mapping NAME: value" in d.message


def test_bad_env_name_points_at_the_key(layer):
    _, diags = layer("""\
        env:
          GOOD: 1
          "BAD=NAME": 2
        """)
    d = only(diags, "layer.name")
    assert at(d) == (3, 3)
    assert "BAD=NAME" in d.message


def test_missing_required_field(layer):
    _, diags = layer("""\
        env:
          A: {secretKeyRef: {name: s}}
        """)
    d = only(diags, "layer.missing-field")
    assert "`key`" in d.message
    assert d.path == "env.A.secretKeyRef.key"
    assert at(d) == (2, 21)


def test_literal_with_suggestion(layer):
    _, diags = layer("imagePullPolicy: IfNotPresnt\n")
    d = only(diags, "layer.value")
    assert d.hint == "did you mean `IfNotPresent`?"
    assert "'Always'" in d.message


def test_wrong_api_version_and_kind(layer):
    _, diags = layer("apiVersion: podc/v2\nkind: Project\n")
    assert [d.code for d in diags] == ["layer.value", "layer.value"]


def test_secret_entry_must_be_used(layer):
    _, diags = layer("""\
        secrets:
          db: {optional: true}
          other: {items: [{key: a, path: a}], env: {A: a}}
        """)
    assert [(d.code, d.pos.line) for d in diags] == [("layer.secret", 2), ("layer.secret", 3)]


def test_exception_needs_reason_and_real_date(layer):
    _, diags = layer("""\
        exceptions:
          - {policy: pss, rule: runAsNonRoot, reason: "  ", expires: 2026-02-30}
          - {policy: pss, rule: x, reason: ok, expires: tomorrow}
        """)
    msgs = [(d.pos.line, d.message) for d in diags]
    assert len(msgs) == 3
    assert "must not be empty" in msgs[0][1]
    assert "not a calendar date" in msgs[1][1]
    assert "YYYY-MM-DD" in msgs[2][1]


def test_raw_must_hold_mappings_and_not_rename_container(layer):
    _, diags = layer("""\
        raw:
          podSpec: [1]
        """)
    assert only(diags).code == "layer.type"
    _, diags = layer("""\
        raw:
          container: {name: other, stdin: true}
        """)
    d = only(diags, "layer.raw-container-name")
    assert at(d) == (2, 21)


def test_layer_must_be_a_mapping(layer):
    _, diags = layer("- image: x\n")
    assert only(diags).code == "layer.type"


@pytest.mark.parametrize("text, line", [
    ("command: [a, !delete b]\n", 1),
    ("podFailurePolicy:\n  rules:\n    - {action: Ignore, $patch: delete}\n", 3),
    ("imagePullSecrets: [!delete regcred]\n", 1),
    ("$patch: replace\nimage: x\n", 1),
    ("secrets: !replace {db: {mountPath: /db}}\n", 1),
])
def test_bad_directive_placement(layer, text, line):
    _, diags = layer(text)
    d = only(diags, "layer.directive")
    assert d.pos.line == line


def test_good_directive_placement(layer):
    spec, diags = layer("""\
        env: !replace {A: "1"}
        tolerations:
          - {key: gpu, $patch: delete}
        imagePullSecrets:
          - !delete {name: old}
        volumes:
          old: null
        raw:
          podSpec:
            containers:
              - {name: x, $patch: delete}
        """)
    assert diags == [] and spec is not None


def test_all_errors_reported_together_in_source_order(layer):
    _, diags = layer("""\
        imagee: busybox
        env:
          A: {value: 1, fieldRef: {fieldPath: x}}
        resources:
          limits: {cpu: lots}
        volumes:
          d: {emptyDir: {}, configMap: {name: c}}
        command: [a, !delete b]
        """)
    assert [(d.code, d.pos.line) for d in diags] == [
        ("layer.unknown-field", 1),
        ("layer.env-form", 3),
        ("layer.quantity", 5),
        ("layer.volume-source", 7),
        ("layer.directive", 8),
    ]


def test_python_layer_errors_have_the_layer_origin():
    from podc.errors import Diagnostics, Pos
    from podc.model import validate_layer
    from podc.tree import Origin, from_plain

    node = from_plain({"image": "x", "nodeSelektor": {}}, Origin("step", Pos("<step>")))
    diags = Diagnostics()
    assert validate_layer(node, diags) is None
    d = only(diags.sorted(), "layer.unknown-field")
    assert d.pos.file == "<step>" and d.hint == "did you mean `nodeSelector`?"


def test_pasted_kubernetes_job_gets_one_helpful_error(layer):
    _, diags = layer("""\
        apiVersion: batch/v1
        kind: Job
        metadata: {name: x}
        spec: {template: {spec: {containers: []}}}
        """)
    d = only(diags, "layer.kubernetes-object")
    assert at(d) == (2, 7) and "raw:" in d.hint
