"""API-server rules the OpenAPI schema does not state (api.* codes)."""

from __future__ import annotations

import random

import pytest

from podc.check.apirules import api_issues
from podc.check.schema import validator_for
from test_schema_samples import all_samples, controller, cronjob, job, pod


def codes(doc, version="1.33"):
    return {(i.code, i.path) for i in validator_for(version).validate(doc)}


def ctr(doc):
    return doc["spec"]["template"]["spec"]["containers"][0]


def pod_spec(doc):
    return doc["spec"]["template"]["spec"]


def test_job_name_limit():
    doc = job()
    doc["metadata"]["name"] = "a" * 63
    assert codes(doc) == set()
    doc["metadata"]["name"] = "a" * 64
    assert codes(doc) == {("api.name", "/metadata/name")}
    d = pod()
    d["metadata"]["name"] = "a" * 64  # Pods may use a full DNS subdomain
    assert codes(d) == set()


def test_cronjob_name_limit():
    doc = cronjob()
    doc["metadata"]["name"] = "a" * 52
    assert codes(doc) == set()
    doc["metadata"]["name"] = "a" * 53
    (issue,) = validator_for("1.33").validate(doc)
    assert issue.code == "api.name" and "11-character" in issue.hint


@pytest.mark.parametrize("name", ["Train", "train_model", "-x", "x" * 254])
def test_bad_object_names(name):
    doc = pod()
    doc["metadata"]["name"] = name
    assert ("api.name", "/metadata/name") in codes(doc)


def test_missing_name_unless_generate_name():
    doc = job()
    del doc["metadata"]["name"]
    assert codes(doc) == {("api.name", "/metadata/name")}
    doc["metadata"]["generateName"] = "train-"
    assert codes(doc) == set()


def test_namespace_is_a_label():
    doc = job()
    doc["metadata"]["namespace"] = "ml.team"
    assert codes(doc) == {("api.name", "/metadata/namespace")}


def test_labels_and_annotations():
    doc = job()
    doc["metadata"]["labels"].update({"ok/key": "v", "bad key": "x", "k": "bad value"})
    doc["spec"]["template"]["metadata"]["labels"]["x" * 64] = "v"
    doc["metadata"]["annotations"]["Also.OK/Annotation"] = "anything at all, spaces too"
    doc["metadata"]["annotations"]["no good/a/b"] = "x"
    assert codes(doc) == {
        ("api.label-key", "/metadata/labels/bad key"),
        ("api.label-value", "/metadata/labels/k"),
        ("api.label-key", "/spec/template/metadata/labels/" + "x" * 64),
        ("api.annotation-key", "/metadata/annotations/no good~1a~1b"),
    }


def test_annotations_size():
    doc = job()
    doc["metadata"]["annotations"]["big"] = "x" * (256 * 1024)
    assert ("api.annotations-size", "/metadata/annotations") in codes(doc)


def test_container_names_unique_across_lists():
    doc = job()
    spec = pod_spec(doc)
    spec["initContainers"][0]["name"] = "main"
    spec["containers"].append({"name": "Side_Car", "image": "x:1"})
    assert codes(doc) == {
        ("api.duplicate", "/spec/template/spec/containers/0/name"),
        ("api.name", "/spec/template/spec/containers/1/name"),
    }


def test_image_required_and_trimmed():
    doc = job()
    spec = pod_spec(doc)
    del spec["containers"][0]["image"]
    spec["initContainers"][0]["image"] = " busybox"
    assert codes(doc) == {("api.image", "/spec/template/spec/containers/0/image"),
                          ("api.image", "/spec/template/spec/initContainers/0/image")}


def test_empty_containers():
    doc = pod()
    doc["spec"]["containers"] = []
    assert ("api.containers", "/spec/containers") in codes(doc)


def test_restart_policy_per_kind():
    doc = job()
    pod_spec(doc)["restartPolicy"] = "Always"
    assert codes(doc) == {("api.enum", "/spec/template/spec/restartPolicy")}
    del pod_spec(doc)["restartPolicy"]  # defaults to Always, which a Job rejects
    (issue,) = validator_for("1.33").validate(doc)
    assert issue.code == "api.restart-policy" and "Never" in issue.hint
    dep = controller("Deployment")
    pod_spec(dep)["restartPolicy"] = "Never"
    assert codes(dep) == {("api.enum", "/spec/template/spec/restartPolicy")}
    del pod_spec(dep)["restartPolicy"]
    assert codes(dep) == set()
    p = pod()
    p["spec"]["restartPolicy"] = "Sometimes"
    assert codes(p) == {("api.enum", "/spec/restartPolicy")}


@pytest.mark.parametrize(
    "field, value",
    [("imagePullPolicy", "Alwayz"), ("terminationMessagePolicy", "Stdout")],
)
def test_container_enums(field, value):
    doc = job()
    ctr(doc)[field] = value
    issues = validator_for("1.33").validate(doc)
    assert [(i.code, i.path) for i in issues] == [("api.enum", f"/spec/template/spec/containers/0/{field}")]


def test_enum_hint_suggests():
    doc = job()
    ctr(doc)["imagePullPolicy"] = "ifnotpresent"
    (issue,) = validator_for("1.33").validate(doc)
    assert issue.hint == 'did you mean "IfNotPresent"?'


def test_sidecar_restart_policy_only_on_init_containers():
    doc = job()
    pod_spec(doc)["initContainers"][0]["restartPolicy"] = "Always"
    assert codes(doc) == set()
    ctr(doc)["restartPolicy"] = "Always"
    assert codes(doc) == {("api.restart-policy", "/spec/template/spec/containers/0/restartPolicy")}


def test_ports():
    doc = job()
    ctr(doc)["ports"] = [
        {"containerPort": 0},
        {"containerPort": 70000, "protocol": "HTTP"},
        {"containerPort": 80, "name": "Web"},
        {"containerPort": 81, "name": "web"},
        {"containerPort": 82, "name": "web", "hostPort": 0},
        {"containerPort": 83, "hostPort": 65536},
    ]
    base = "/spec/template/spec/containers/0/ports"
    assert codes(doc) == {
        ("api.port", f"{base}/0/containerPort"),
        ("api.port", f"{base}/1/containerPort"),
        ("api.enum", f"{base}/1/protocol"),
        ("api.port-name", f"{base}/2/name"),
        ("api.duplicate", f"{base}/4/name"),
        ("api.port", f"{base}/5/hostPort"),
    }


def test_env_names_by_version():
    doc = job()
    ctr(doc)["env"].append({"name": "1_STARTS_WITH_DIGIT", "value": "x"})
    path = "/spec/template/spec/containers/0/env/3/name"
    assert codes(doc, "1.31") == {("api.env-name", path)}
    assert codes(doc, "1.34") == set()
    ctr(doc)["env"].append({"name": "A=B", "value": "x"})
    assert codes(doc, "1.37") == {("api.env-name", "/spec/template/spec/containers/0/env/4/name")}


def test_duplicate_env_is_a_warning():
    doc = job()
    ctr(doc)["env"].append({"name": "FOO", "value": "2"})
    (issue,) = validator_for("1.33").validate(doc)
    assert issue.code == "api.duplicate-env" and issue.severity == "warning" and "env[0]" in issue.message


def test_env_sources():
    doc = job()
    env = ctr(doc)["env"]
    env[1]["value"] = "also"
    env[2]["valueFrom"]["configMapKeyRef"] = {"name": "c", "key": "k"}
    ctr(doc)["envFrom"].append({})
    base = "/spec/template/spec/containers/0"
    assert codes(doc) == {("api.env-source", f"{base}/env/1"), ("api.env-source", f"{base}/env/2/valueFrom"),
                          ("api.env-source", f"{base}/envFrom/1")}


def test_resources():
    doc = job()
    res = ctr(doc)["resources"]
    res["requests"].update({"cpu": "3", "memory": "1GB", "nvidia.com/gpu": 1, "ephemeral-storage": "-1Gi",
                            "bad name!": "1"})
    res["limits"].update({"memory": "2Gi"})
    base = "/spec/template/spec/containers/0/resources"
    assert codes(doc) == {
        ("api.requests-exceed-limits", f"{base}/requests/cpu"),
        ("api.quantity", f"{base}/requests/memory"),
        ("api.extended-resource", f"{base}/limits"),
        ("api.quantity", f"{base}/requests/ephemeral-storage"),
        ("api.resource-name", f"{base}/requests/bad name!"),
    }


def test_requests_equal_limits_is_fine_and_units_compare():
    doc = job()
    ctr(doc)["resources"] = {"requests": {"cpu": "1000m", "memory": "1024Mi", "nvidia.com/gpu": "1"},
                             "limits": {"cpu": 1, "memory": "1Gi", "nvidia.com/gpu": 1}}
    assert codes(doc) == set()
    ctr(doc)["resources"]["requests"]["memory"] = "1.1Gi"
    assert codes(doc) == {("api.requests-exceed-limits",
                           "/spec/template/spec/containers/0/resources/requests/memory")}


def test_volumes_and_mounts():
    doc = job()
    spec = pod_spec(doc)
    spec["volumes"].append({"name": "data", "emptyDir": {}})
    spec["volumes"].append({"name": "both", "emptyDir": {}, "configMap": {"name": "c"}})
    spec["volumes"].append({"name": "Bad_Name"})
    mounts = ctr(doc)["volumeMounts"]
    mounts.append({"name": "dtaa", "mountPath": "/x"})
    mounts.append({"name": "tmp", "mountPath": "/data"})
    mounts.append({"name": "tmp", "mountPath": "/y", "subPath": "../etc"})
    base = "/spec/template/spec"
    assert codes(doc) == {
        ("api.duplicate", f"{base}/volumes/2/name"),
        ("api.volume-source", f"{base}/volumes/3"),
        ("api.name", f"{base}/volumes/4/name"),
        ("api.volume-mount", f"{base}/containers/0/volumeMounts/2/name"),
        ("api.duplicate", f"{base}/containers/0/volumeMounts/3/mountPath"),
        ("api.volume-mount", f"{base}/containers/0/volumeMounts/4/subPath"),
    }
    hint = [i for i in validator_for("1.33").validate(doc) if i.path.endswith("volumeMounts/2/name")][0].hint
    assert hint == 'did you mean "data"?'


def test_volume_without_source_defaults_to_empty_dir():
    doc = job()
    pod_spec(doc)["volumes"].append({"name": "scratch"})
    assert codes(doc) == set()


def test_tolerations():
    doc = job()
    pod_spec(doc)["tolerations"] = [
        {"key": "a", "operator": "Exists", "value": "x"},
        {"operator": "Equal", "value": "x"},
        {"key": "b", "operator": "Like"},
        {"key": "c", "effect": "NoSchedule", "tolerationSeconds": 10},
        {"key": "d", "effect": "Sometimes"},
        {"operator": "Exists"},
        {"key": "e", "operator": "Equal", "value": "not a label value"},
    ]
    base = "/spec/template/spec/tolerations"
    assert codes(doc) == {
        ("api.toleration", f"{base}/0/value"),
        ("api.toleration", f"{base}/1/operator"),
        ("api.enum", f"{base}/2/operator"),
        ("api.toleration", f"{base}/3/tolerationSeconds"),
        ("api.enum", f"{base}/4/effect"),
        ("api.label-value", f"{base}/6/value"),
    }


def test_affinity_and_spread():
    doc = job()
    spec = pod_spec(doc)
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    terms[0]["matchExpressions"] += [{"key": "x", "operator": "Within", "values": ["a"]},
                                     {"key": "y", "operator": "In", "values": []},
                                     {"key": "z", "operator": "Exists", "values": ["a"]},
                                     {"key": "w", "operator": "Gt", "values": ["abc"]}]
    spec["affinity"]["podAntiAffinity"] = {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 0, "podAffinityTerm": {"topologyKey": "", "labelSelector": {"matchExpressions": [
            {"key": "app", "operator": "Gt", "values": ["1"]}]}}}]}
    spec["topologySpreadConstraints"].append({"maxSkew": 0, "topologyKey": "topology.kubernetes.io/zone",
                                              "whenUnsatisfiable": "ScheduleAnyway"})
    spec["topologySpreadConstraints"].append({"maxSkew": 1, "topologyKey": "k", "whenUnsatisfiable": "Never"})
    base = "/spec/template/spec"
    terms_path = f"{base}/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0"
    anti = f"{base}/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/0"
    assert codes(doc) == {
        ("api.enum", f"{terms_path}/matchExpressions/1/operator"),
        ("api.selector", f"{terms_path}/matchExpressions/2/values"),
        ("api.selector", f"{terms_path}/matchExpressions/3/values"),
        ("api.selector", f"{terms_path}/matchExpressions/4/values"),
        ("api.range", f"{anti}/weight"),
        ("api.affinity", f"{anti}/podAffinityTerm/topologyKey"),
        ("api.enum", f"{anti}/podAffinityTerm/labelSelector/matchExpressions/0/operator"),
        ("api.range", f"{base}/topologySpreadConstraints/1/maxSkew"),
        ("api.duplicate", f"{base}/topologySpreadConstraints/1"),
        ("api.enum", f"{base}/topologySpreadConstraints/2/whenUnsatisfiable"),
    }


def test_security_context_and_ranges():
    doc = job()
    spec = pod_spec(doc)
    spec["securityContext"]["seccompProfile"] = {"type": "Localhost"}
    spec["securityContext"]["runAsUser"] = -1
    spec["terminationGracePeriodSeconds"] = -5
    ctr(doc)["securityContext"]["seccompProfile"] = {"type": "runtime/default"}
    doc["spec"]["backoffLimit"] = -1
    doc["spec"]["activeDeadlineSeconds"] = 0
    base = "/spec/template/spec"
    assert codes(doc) == {
        ("api.seccomp", f"{base}/securityContext/seccompProfile/localhostProfile"),
        ("api.range", f"{base}/securityContext/runAsUser"),
        ("api.range", f"{base}/terminationGracePeriodSeconds"),
        ("api.enum", f"{base}/containers/0/securityContext/seccompProfile/type"),
        ("api.range", "/spec/backoffLimit"),
        ("api.range", "/spec/activeDeadlineSeconds"),
    }


def test_job_spec_rules():
    doc = job()
    doc["spec"].update({"completionMode": "Indexd", "backoffLimitPerIndex": 1,
                        "selector": {"matchLabels": {"a": "b"}}})
    assert codes(doc) == {("api.enum", "/spec/completionMode"), ("api.job", "/spec/backoffLimitPerIndex"),
                          ("api.selector", "/spec/selector")}
    doc["spec"].update({"completionMode": "Indexed", "manualSelector": True})
    assert codes(doc) == {("api.job", "/spec/completions")}


@pytest.mark.parametrize(
    "schedule, ok",
    [("*/5 * * * *", True), ("@daily", True), ("", False), ("* * *", False), ("CRON_TZ=UTC 0 * * * *", False)],
)
def test_cron_schedule(schedule, ok):
    doc = cronjob()
    doc["spec"]["schedule"] = schedule
    assert (codes(doc) == set()) is ok


def test_cronjob_job_template_is_checked():
    doc = cronjob()
    doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    doc["spec"]["concurrencyPolicy"] = "Never"
    assert codes(doc) == {("api.enum", "/spec/jobTemplate/spec/template/spec/restartPolicy"),
                          ("api.enum", "/spec/concurrencyPolicy")}


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"])
def test_controller_selector_must_match_template(kind):
    doc = controller(kind)
    doc["spec"]["selector"]["matchLabels"]["tier"] = "gpu"
    assert codes(doc) == {("api.selector", "/spec/template/metadata/labels")}
    doc["spec"]["selector"] = {}
    assert codes(doc) == {("api.selector", "/spec/selector")}


def test_api_rules_never_raise_on_garbage():
    rng = random.Random(7)
    pool = [None, 1, -1, "x", "", [], {}, [None], [1], {"a": None}, True, 1.5, "1Gi", [{"name": 3}]]
    for _ in range(1500):
        doc = rng.choice(all_samples())
        node = doc
        # descend to a random place and replace it
        while isinstance(node, (dict, list)) and node and rng.random() < 0.8:
            key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            if not isinstance(node[key], (dict, list)) or rng.random() < 0.2:
                node[key] = rng.choice(pool)
                break
            node = node[key]
        assert isinstance(api_issues(doc, "1.33"), list)
        assert isinstance(validator_for("1.33").validate(doc), list)


def test_schema_issue_suppresses_api_issue_at_same_path():
    doc = job()
    ctr(doc)["ports"] = [{"containerPort": "http"}]  # a type error, not also a range error
    assert codes(doc) == {("schema.type", "/spec/template/spec/containers/0/ports/0/containerPort")}


def test_probes_and_lifecycle_handlers():
    doc = job()
    c = ctr(doc)
    c["readinessProbe"] = {"periodSeconds": 5}
    c["startupProbe"] = {"exec": {"command": ["true"]}, "tcpSocket": {"port": 8080}}
    c["livenessProbe"] = {"httpGet": {"port": "Metrics_Port"}}
    c["lifecycle"] = {"preStop": {"httpGet": {"port": 0}}, "postStart": {"sleep": {"seconds": 1}}}
    base = "/spec/template/spec/containers/0"
    assert codes(doc) == {
        ("api.probe", f"{base}/readinessProbe"),
        ("api.probe", f"{base}/startupProbe"),
        ("api.port-name", f"{base}/livenessProbe/httpGet/port"),
        ("api.port", f"{base}/lifecycle/preStop/httpGet/port"),
    }


def test_replication_controller_selector_is_a_map():
    from test_schema_samples import replication_controller

    doc = replication_controller()
    assert codes(doc) == set()
    doc["spec"]["selector"]["tier"] = "x"
    assert codes(doc) == {("api.selector", "/spec/template/metadata/labels")}


def test_pod_template_checks_its_pod():
    from test_schema_samples import pod_template

    doc = pod_template()
    doc["template"]["spec"]["containers"][0]["name"] = "Main"
    assert codes(doc) == {("api.name", "/template/spec/containers/0/name")}


@pytest.mark.parametrize("prefix, ok", [("train-", True), ("train", True), ("Train-", False), ("train--", True),
                                        ("-", False)])
def test_generate_name_prefix(prefix, ok):
    doc = job()
    del doc["metadata"]["name"]
    doc["metadata"]["generateName"] = prefix
    assert (codes(doc) == set()) is ok


def messages(doc, version="1.33"):
    return {i.path: i.message for i in validator_for(version).validate(doc)}


def test_negative_quantity_message():
    doc = job()
    ctr(doc)["resources"]["requests"]["ephemeral-storage"] = "-1Gi"
    got = messages(doc)["/spec/template/spec/containers/0/resources/requests/ephemeral-storage"]
    assert got == "requests.ephemeral-storage must be greater than or equal to 0, got '-1Gi'"


def test_file_modes_are_0_to_0777():
    doc = job()
    spec = pod_spec(doc)
    spec["volumes"] = [
        {"name": "ok", "secret": {"secretName": "s", "defaultMode": 0o777, "items": [{"key": "k", "path": "p",
                                                                                       "mode": 0}]}},
        {"name": "big", "secret": {"secretName": "s", "defaultMode": 99999}},
        {"name": "neg", "configMap": {"name": "c", "items": [{"key": "k", "path": "p", "mode": -1}]}},
        {"name": "dec", "downwardAPI": {"defaultMode": 644}},
        {"name": "proj", "projected": {"defaultMode": 512, "sources": [
            {"secret": {"name": "s", "items": [{"key": "k", "path": "p", "mode": 0o1000}]}}]}},
    ]
    ctr(doc)["volumeMounts"] = []
    base = "/spec/template/spec/volumes"
    assert {c for c in codes(doc) if c[0] == "api.file-mode"} == {
        ("api.file-mode", f"{base}/1/secret/defaultMode"),
        ("api.file-mode", f"{base}/2/configMap/items/0/mode"),
        ("api.file-mode", f"{base}/3/downwardAPI/defaultMode"),
        ("api.file-mode", f"{base}/4/projected/defaultMode"),
        ("api.file-mode", f"{base}/4/projected/sources/0/secret/items/0/mode"),
    }
    assert messages(doc)[f"{base}/1/secret/defaultMode"] == (
        "defaultMode must be a file mode between 0 and 0777 (511), got 99999")


@pytest.mark.parametrize("resources, expected", [
    ({"limits": {"nvidia.com/gpu": "0.5"}}, {("api.extended-resource", "/limits/nvidia.com~1gpu")}),
    ({"limits": {"nvidia.com/gpu": 0.5}, "requests": {"nvidia.com/gpu": 0.5}},
     {("api.extended-resource", "/limits/nvidia.com~1gpu"), ("api.extended-resource", "/requests/nvidia.com~1gpu")}),
    ({"limits": {"nvidia.com/gpu": "1500m"}}, {("api.extended-resource", "/limits/nvidia.com~1gpu")}),
    ({"limits": {"nvidia.com/gpu": 2}, "requests": {"nvidia.com/gpu": 1}}, {("api.extended-resource", "/requests/nvidia.com~1gpu")}),
    ({"limits": {"nvidia.com/gpu": 2}, "requests": {"nvidia.com/gpu": "2"}}, set()),
    ({"limits": {"nvidia.com/gpu": 1}}, set()),
    ({"limits": {"hugepages-2Mi": "100Mi", "memory": "1Gi"}}, set()),
    ({"limits": {"hugepages-2Mi": "3Mi", "memory": "1Gi"}}, {("api.hugepages", "/limits/hugepages-2Mi")}),
    ({"limits": {"hugepages-2Mi": "100Mi"}}, {("api.hugepages", "")}),
    ({"limits": {"hugepages-2Mi": "100Mi", "memory": "1Gi"}, "requests": {"hugepages-2Mi": "50Mi"}},
     {("api.extended-resource", "/requests/hugepages-2Mi")}),
    ({"requests": {"hugepages-1Gi": "1Gi", "memory": "1Gi"}}, {("api.extended-resource", "/limits")}),
    ({"limits": {"gpu": 1}}, {("api.resource-name", "/limits/gpu")}),
])
def test_extended_resources_and_hugepages(resources, expected):
    """validation.go ValidateResourceRequirements: whole extended resources, request == limit for
    resources that cannot be overcommitted (extended, hugepages), hugepages in whole pages and
    next to cpu or memory, standard names for containers."""
    doc = job()
    ctr(doc)["resources"] = resources
    base = "/spec/template/spec/containers/0/resources"
    assert codes(doc) == {(c, base + p) for c, p in expected}


@pytest.mark.parametrize("fields, expected", [
    ({"completionMode": "Indexed", "completions": 4, "maxFailedIndexes": 1}, {"/spec/maxFailedIndexes"}),
    ({"completionMode": "Indexed", "completions": 2, "backoffLimitPerIndex": 1, "maxFailedIndexes": 3},
     {"/spec/maxFailedIndexes"}),
    ({"successPolicy": {"rules": [{"succeededCount": 1}]}}, {"/spec/successPolicy"}),
    ({"podFailurePolicy": {"rules": []}, "podReplacementPolicy": "TerminatingOrFailed"}, {"/spec/podReplacementPolicy"}),
    ({"podFailurePolicy": {"rules": []}, "podReplacementPolicy": "Failed"}, set()),
    ({"completionMode": "Indexed", "completions": 4, "backoffLimitPerIndex": 1, "maxFailedIndexes": 2}, set()),
])
def test_job_cross_field_rules(fields, expected):
    """batch validation.go validateJobSpec: index limits, successPolicy, podFailurePolicy companions."""
    doc = job()
    doc["spec"].update(fields)
    assert {p for c, p in codes(doc) if c == "api.job"} == expected


def test_pod_failure_policy_needs_restart_never():
    doc = job()
    doc["spec"]["podFailurePolicy"] = {"rules": []}
    pod_spec(doc)["restartPolicy"] = "OnFailure"
    assert ("api.job", "/spec/template/spec/restartPolicy") in codes(doc)
