"""ValidatingAdmissionPolicy semantics, as the API server applies them to a Job CREATE."""

from __future__ import annotations

import pytest

from _admission_util import admission_violations, check, job, messages, policy

LIMIT = policy("limits", """\
- expression: "object.spec.backoffLimit <= 3"
  message: backoffLimit must be at most 3
""")


def test_admits_and_denies_a_job(tmp_path):
    assert admission_violations(check(tmp_path, LIMIT, job())) == []
    result = check(tmp_path, LIMIT, job(spec__backoffLimit=9))
    assert admission_violations(result) == [("admission/limits", "validation-0", "error")]
    (v,) = [v for v in result.violations() if v.policy == "admission/limits"]
    assert v.message == "backoffLimit must be at most 3"
    assert v.path == "/spec/backoffLimit" and v.pos.line > 0
    assert "limits-binding" in v.hint


def test_api_server_defaults_are_applied_before_policies(tmp_path):
    # backoffLimit defaults to 6 on the API server: a Job without it is denied by "<= 3"
    assert admission_violations(check(tmp_path, LIMIT, job(spec__backoffLimit=None))) == \
        [("admission/limits", "validation-0", "error")]


@pytest.mark.parametrize("actions, severity", [
    ("[Deny]", "error"), ("[Warn]", "warning"), ("[Audit]", "info"), ("[Warn, Audit]", "warning"),
    ("[Deny, Audit]", "error"),
])
def test_validation_actions_map_to_severities(tmp_path, actions, severity):
    text = policy("limits", '- expression: "object.spec.backoffLimit <= 3"\n', actions=actions)
    result = check(tmp_path, text, job(spec__backoffLimit=9))
    assert admission_violations(result) == [("admission/limits", "validation-0", severity)]
    assert result.failed is (severity == "error")


def test_message_falls_back_from_message_expression_to_message_to_expression(tmp_path):
    text = policy("msgs", """\
- expression: "object.spec.backoffLimit <= 3"
  messageExpression: "'backoffLimit ' + string(object.spec.backoffLimit) + ' > 3'"
  message: static
  reason: Forbidden
- expression: "object.spec.backoffLimit <= 4"
  messageExpression: "object.spec.backoffLimit"
  message: the static message
- expression: "object.spec.backoffLimit <= 5"
- expression: "object.spec.backoffLimit <= 6"
  messageExpression: "'   '"
""")
    result = check(tmp_path, text, job(spec__backoffLimit=9))
    assert messages(result) == ["backoffLimit 9 > 3", "the static message",
                                "failed expression: object.spec.backoffLimit <= 5",
                                "failed expression: object.spec.backoffLimit <= 6"]


def test_evaluation_errors_follow_failure_policy(tmp_path):
    fail = policy("strict", '- expression: "object.spec.nope > 1"\n', extra_spec="failurePolicy: Fail\n")
    result = check(tmp_path, fail, job())
    assert admission_violations(result) == [("admission/strict", "validation-0", "error")]
    assert messages(result) == ["expression 'object.spec.nope > 1' resulted in error: no such key: nope"]
    ignore = policy("lenient", '- expression: "object.spec.nope > 1"\n', extra_spec="failurePolicy: Ignore\n")
    assert admission_violations(check(tmp_path, ignore, job())) == []


def test_failure_policy_defaults_to_fail(tmp_path):
    text = policy("p", '- expression: "object.spec.nope > 1"\n')
    assert admission_violations(check(tmp_path, text, job())) == [("admission/p", "validation-0", "error")]


def test_match_conditions_skip_or_fail(tmp_path):
    text = policy("mc", '- expression: "object.spec.backoffLimit <= 3"\n', extra_spec="""\
matchConditions:
- name: only-team-data
  expression: "object.metadata.labels['team'] == 'data'"
- name: not-exempt
  expression: "!('exempt' in object.metadata.labels)"
""")
    assert admission_violations(check(tmp_path, text, job(spec__backoffLimit=9))) != []
    other_team = job(spec__backoffLimit=9)
    other_team["metadata"]["labels"] = {"team": "web"}
    assert admission_violations(check(tmp_path, text, other_team)) == []
    exempt = job(spec__backoffLimit=9)
    exempt["metadata"]["labels"]["exempt"] = "yes"
    assert admission_violations(check(tmp_path, text, exempt)) == []


def test_match_condition_error_is_an_evaluation_error_unless_another_is_false(tmp_path):
    text = policy("mc", '- expression: "true"\n', extra_spec="""\
matchConditions:
- name: broken
  expression: "object.metadata.annotations['x'] == 'y'"
""")
    result = check(tmp_path, text, job())
    assert admission_violations(result) == [("admission/mc", "match-conditions", "error")]
    assert "broken" in messages(result)[0]
    skipped = policy("mc", '- expression: "false"\n', extra_spec="""\
matchConditions:
- name: broken
  expression: "object.metadata.annotations['x'] == 'y'"
- name: never
  expression: "false"
""")
    assert admission_violations(check(tmp_path, skipped, job())) == []


def test_variables_are_lazy_and_composable(tmp_path):
    text = policy("vars", """\
- expression: "variables.exempt || variables.images.all(i, i.startsWith('registry.corp/'))"
  messageExpression: "'images must come from registry.corp: ' + variables.images.join(', ')"
""", extra_spec="""\
variables:
- name: containers
  expression: "object.spec.template.spec.containers"
- name: images
  expression: "variables.containers.map(c, c.image)"
- name: exempt
  expression: "'exempt' in object.metadata.labels"
- name: unused-and-broken
  expression: "object.spec.nope"
""".replace("unused-and-broken", "unusedAndBroken"))
    assert admission_violations(check(tmp_path, text, job())) == []
    bad = job()
    bad["spec"]["template"]["spec"]["containers"][0]["image"] = "docker.io/evil:1"
    result = check(tmp_path, text, bad)
    assert messages(result) == ["images must come from registry.corp: docker.io/evil:1"]
    (v,) = [v for v in result.violations() if v.policy == "admission/vars"]
    assert v.path == "/spec/template/spec/containers"  # found through variables.containers


def test_policies_on_pods_run_on_the_pod_the_job_controller_creates(tmp_path):
    text = policy("pods", """\
- expression: "object.spec.containers.all(c, has(c.resources.requests) && has(c.resources.requests.memory))"
  message: containers need memory requests
- expression: "object.metadata.labels['batch.kubernetes.io/job-name'] == 'etl'"
- expression: "object.metadata.ownerReferences[0].kind == 'Job' && object.metadata.generateName == 'etl-'"
- expression: "object.spec.containers.all(c, c.imagePullPolicy == 'IfNotPresent')"
- expression: "request.userInfo.username == 'system:serviceaccount:kube-system:job-controller'"
- expression: "object.metadata.namespace == 'batch' && request.namespace == 'batch'"
""", resources='["pods"]', groups='[""]')
    # requests default from limits; the pod has the controller's labels and owner
    assert admission_violations(check(tmp_path, text, job())) == []
    no_limits = job()
    del no_limits["spec"]["template"]["spec"]["containers"][0]["resources"]
    result = check(tmp_path, text, no_limits)
    assert admission_violations(result) == [("admission/pods", "validation-0", "error")]
    (v,) = [v for v in result.violations() if v.policy == "admission/pods"]
    assert v.path == "/spec/template/spec/containers"
    assert "Pod the Job controller creates" in v.hint


def test_jobs_policies_do_not_run_on_pods_and_pods_policies_do_not_run_on_jobs(tmp_path):
    on_jobs = policy("j", '- expression: "object.kind == \'Job\'"\n')
    on_pods = policy("p", '- expression: "object.kind == \'Pod\'"\n', resources='["pods"]', groups='[""]')
    assert admission_violations(check(tmp_path, on_jobs, job())) == []
    assert admission_violations(check(tmp_path, on_pods, job())) == []


def test_cronjob_yields_a_job_and_a_pod(tmp_path):
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "batch"},
            "spec": {"schedule": "0 1 * * *", "jobTemplate": {"spec": {"backoffLimit": 9, "template": job()["spec"][
                "template"]}}}}
    result = check(tmp_path, LIMIT, cron)
    (v,) = [v for v in result.violations() if v.policy == "admission/limits"]
    assert v.path == "/spec/jobTemplate/spec/backoffLimit"


@pytest.mark.parametrize("rule, matched", [
    ('{apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"]}', True),
    ('{apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*"]}', True),
    ('{apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["*/*"]}', True),
    ('{apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs/status"]}', False),
    ('{apiGroups: ["batch"], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["jobs"]}', False),
    ('{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"]}', False),
    ('{apiGroups: ["batch"], apiVersions: ["v1beta1"], operations: ["CREATE"], resources: ["jobs"]}', False),
    ('{apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"], scope: Cluster}', False),
    ('{apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"], scope: Namespaced}',
     True),
    ('{apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"], '
     'resourceNames: ["etl"]}', True),
    ('{apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"], '
     'resourceNames: ["other"]}', False),
])
def test_resource_rules(tmp_path, rule, matched):
    text = f"""\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: r}}
spec:
  matchConstraints:
    resourceRules: [{rule}]
  validations: [{{expression: "false"}}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: r}}
spec: {{policyName: r, validationActions: [Deny]}}
"""
    found = [r for r in admission_violations(check(tmp_path, text, job())) if r[0] == "admission/r"]
    assert bool(found) is matched


def test_exclude_resource_rules_and_object_selector(tmp_path):
    excluded = policy("x", '- expression: "false"\n', resources='["*"]', groups='["*"]', extra_spec="")
    excluded = excluded.replace("      resources: [\"*\"]\n", "      resources: [\"*\"]\n    excludeResourceRules:\n"
                                "    - {apiGroups: [batch], apiVersions: [v1], operations: [CREATE], resources: [jobs]}\n")
    assert [r[0] for r in admission_violations(check(tmp_path, excluded, job()))] == ["admission/x"]  # the pod only
    selected = policy("s", '- expression: "false"\n', binding_spec="""\
matchResources:
  objectSelector:
    matchLabels: {team: web}
""")
    assert admission_violations(check(tmp_path, selected, job())) == []
    web = job()
    web["metadata"]["labels"]["team"] = "web"
    assert admission_violations(check(tmp_path, selected, web)) == [("admission/s", "validation-0", "error")]


NAMESPACES = """\
apiVersion: v1
kind: Namespace
metadata:
  name: batch
  labels: {environment: prod}
---
apiVersion: v1
kind: Namespace
metadata:
  name: sandbox
  labels: {environment: test}
"""


def test_namespace_selector_uses_namespace_objects_among_the_inputs(tmp_path):
    text = policy("ns", '- expression: "namespaceObject.metadata.labels.environment == \'test\'"\n'
                        '  messageExpression: "\'not allowed in \' + namespaceObject.metadata.name"\n',
                  binding_spec="""\
matchResources:
  namespaceSelector:
    matchExpressions:
    - {key: environment, operator: In, values: [prod]}
""")
    result = check(tmp_path, text, job(), extra=NAMESPACES)
    assert messages(result) == ["not allowed in batch"]
    sandbox = job()
    sandbox["metadata"]["namespace"] = "sandbox"
    assert admission_violations(check(tmp_path, text, sandbox, extra=NAMESPACES)) == []


def test_unknown_namespace_has_only_its_name_label_and_a_notice(tmp_path):
    text = policy("ns", '- expression: "false"\n', binding_spec="""\
matchResources:
  namespaceSelector:
    matchLabels: {kubernetes.io/metadata.name: batch}
""")
    result = check(tmp_path, text, job())
    assert admission_violations(result) == [("admission/ns", "validation-0", "error")]
    assert [n.code for n in result.notices if n.code == "admission.unknown-namespace"] == ["admission.unknown-namespace"]
    prod_only = text.replace("matchLabels: {kubernetes.io/metadata.name: batch}", "matchLabels: {environment: prod}")
    assert admission_violations(check(tmp_path, prod_only, job())) == []


def test_manifest_without_namespace_is_in_default(tmp_path):
    text = policy("ns", '- expression: "request.namespace == \'default\' && object.metadata.namespace == \'default\'"\n')
    assert admission_violations(check(tmp_path, text, job(metadata__namespace=None))) == []


PARAM_POLICY = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: retries}
spec:
  failurePolicy: Fail
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
    - {apiGroups: [batch], apiVersions: [v1], operations: [CREATE], resources: [jobs]}
  validations:
  - expression: "object.spec.backoffLimit <= int(params.data.maxRetries)"
    messageExpression: "'backoffLimit must be at most ' + params.data.maxRetries"
"""


def param_binding(ref: str) -> str:
    return f"""\
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: retries}}
spec:
  policyName: retries
  validationActions: [Deny]
  paramRef: {ref}
"""


CONFIGMAPS = """\
---
apiVersion: v1
kind: ConfigMap
metadata: {name: limits, namespace: batch, labels: {tier: gold}}
data: {maxRetries: "3"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: strict, namespace: batch, labels: {tier: gold}}
data: {maxRetries: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: limits, namespace: other}
data: {maxRetries: "0"}
"""


@pytest.mark.parametrize("ref, backoff, expected", [
    ("{name: limits, parameterNotFoundAction: Deny}", 2, []),
    ("{name: limits, parameterNotFoundAction: Deny}", 5, ["backoffLimit must be at most 3"]),
    ("{name: limits, namespace: other, parameterNotFoundAction: Deny}", 2, ["backoffLimit must be at most 0"]),
    ("{selector: {matchLabels: {tier: gold}}, parameterNotFoundAction: Deny}", 2,
     ["backoffLimit must be at most 1"]),  # two params: evaluated once per param
    ("{name: missing, parameterNotFoundAction: Allow}", 9, []),
    ("{name: missing, parameterNotFoundAction: Deny}", 0,
     ["failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"]),
    ("{selector: {matchLabels: {tier: none}}, parameterNotFoundAction: Deny}", 0,
     ["failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"]),
])
def test_configmap_params(tmp_path, ref, backoff, expected):
    result = check(tmp_path, PARAM_POLICY + param_binding(ref) + CONFIGMAPS, job(spec__backoffLimit=backoff))
    assert messages(result) == expected


def test_param_not_found_is_ignored_under_failure_policy_ignore(tmp_path):
    text = PARAM_POLICY.replace("failurePolicy: Fail", "failurePolicy: Ignore") + \
        param_binding("{name: missing, parameterNotFoundAction: Deny}")
    assert admission_violations(check(tmp_path, text, job())) == []


def test_custom_resource_params_and_binding_without_param_ref(tmp_path):
    text = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: parallelism}
spec:
  paramKind: {apiVersion: rules.example.com/v1, kind: ParallelismLimit}
  matchConstraints:
    resourceRules: [{apiGroups: [batch], apiVersions: [v1], operations: [CREATE], resources: [jobs]}]
  validations:
  - expression: "params == null || object.spec.parallelism <= params.maxParallelism"
    messageExpression: "'parallelism must be at most ' + string(params.maxParallelism)"
---
apiVersion: rules.example.com/v1
kind: ParallelismLimit
metadata: {name: cluster-wide}
maxParallelism: 4
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: with-param}
spec:
  policyName: parallelism
  validationActions: [Deny]
  paramRef: {name: cluster-wide, parameterNotFoundAction: Deny}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: without-param}
spec:
  policyName: parallelism
  validationActions: [Warn]
"""
    assert admission_violations(check(tmp_path, text, job(spec__parallelism=4))) == []
    result = check(tmp_path, text, job(spec__parallelism=8))
    assert messages(result) == ["parallelism must be at most 4"]  # the binding without paramRef sees params == null


def test_authorizer_is_an_evaluation_error_under_failure_policy(tmp_path):
    text = policy("authz", '- expression: "authorizer.group(\'\').resource(\'pods\').check(\'create\').allowed()"\n')
    result = check(tmp_path, text, job())
    assert admission_violations(result) == [("admission/authz", "validation-0", "error")]
    assert "not available offline" in messages(result)[0]
    ignored = text.replace("spec:\n  matchConstraints", "spec:\n  failurePolicy: Ignore\n  matchConstraints")
    assert admission_violations(check(tmp_path, ignored, job())) == []


def test_runtime_cost_budget_is_an_evaluation_error(tmp_path):
    big = job()
    big["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": f"V{i}", "value": "x"} for i in range(1500)]
    text = policy("cost", '- expression: "object.spec.template.spec.containers.all(c, c.env.all(e, '
                          'c.env.exists(f, f.name == e.name)))"\n')
    result = check(tmp_path, text, big)
    assert admission_violations(result) == [("admission/cost", "validation-0", "error")]
    assert "cost limit exceeded" in messages(result)[0]


def test_checking_never_modifies_the_document(tmp_path):
    import json

    from podc.check.documents import load_manifest_documents
    from podc.errors import Diagnostics

    from _admission_util import load, write

    pods = policy("pods", '- expression: "object.spec.containers.all(c, c.imagePullPolicy == \'Always\')"\n',
                  resources='["pods"]', groups='[""]')
    checker, _ = load([write(tmp_path, "a.yaml", LIMIT + "---\n" + pods)])
    manifest = job(spec__backoffLimit=None)
    manifest["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    (tmp_path / "j.yaml").write_text(json.dumps(manifest))
    (doc,) = load_manifest_documents([str(tmp_path / "j.yaml")], Diagnostics())
    before = json.dumps(doc.manifest, sort_keys=True)
    assert checker.evaluate(doc)  # defaults were applied to what the policies saw...
    assert json.dumps(doc.manifest, sort_keys=True) == before  # ...not to the document
