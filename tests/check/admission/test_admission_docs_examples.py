"""The example policies of the Kubernetes documentation ("Validating Admission Policy" and the
manifest-based admission control page), each with Jobs it must admit and deny. Where an example
matches Deployments, the same policy is matched to Jobs (parallelism for replicas); expressions
and messages are the documentation's."""

from __future__ import annotations

from _admission_util import admission_violations, check, job, messages

# docs: access/manifest-admission-control/deny-privileged-policy.yaml (verbatim)
DENY_PRIVILEGED = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: "example-deny-privileged.static.k8s.io"
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["pods"]
  validations:
  - expression: >-
      !object.spec.containers.exists(c,
      has(c.securityContext) && has(c.securityContext.privileged) &&
      c.securityContext.privileged == true)
    message: "Privileged containers are not allowed"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: "example-deny-privileged-binding.static.k8s.io"
spec:
  policyName: "example-deny-privileged.static.k8s.io"
  validationActions:
  - Deny
  matchResources:
    namespaceSelector:
      matchExpressions:
      - key: "kubernetes.io/metadata.name"
        operator: NotIn
        values: ["kube-system"]
"""


def privileged_job(namespace: str = "batch") -> dict:
    j = job(metadata__namespace=namespace)
    j["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    return j


def test_deny_privileged_example(tmp_path):
    assert admission_violations(check(tmp_path, DENY_PRIVILEGED, job())) == []
    result = check(tmp_path, DENY_PRIVILEGED, privileged_job())
    assert messages(result) == ["Privileged containers are not allowed"]
    (v,) = [v for v in result.violations() if v.policy.startswith("admission/")]
    assert v.policy == "admission/example-deny-privileged.static.k8s.io"
    assert v.path == "/spec/template/spec/containers" and v.pos.line > 0
    assert admission_violations(check(tmp_path, DENY_PRIVILEGED, privileged_job("kube-system"))) == []


# docs: access/image-matches-namespace-environment.policy.yaml, matched to Jobs
IMAGE_MATCHES_NAMESPACE = """\
apiVersion: admissionregistration.k8s.io/v1beta1
kind: ValidatingAdmissionPolicy
metadata:
  name: "image-matches-namespace-environment.policy.example.com"
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups:   ["batch"]
      apiVersions: ["v1"]
      operations:  ["CREATE", "UPDATE"]
      resources:   ["jobs"]
  variables:
  - name: environment
    expression: "'environment' in namespaceObject.metadata.labels ? namespaceObject.metadata.labels['environment'] : 'prod'"
  - name: exempt
    expression: "'exempt' in object.metadata.labels && object.metadata.labels['exempt'] == 'true'"
  - name: containers
    expression: "object.spec.template.spec.containers"
  - name: containersToCheck
    expression: "variables.containers.filter(c, c.image.contains('example.com'))"
  validations:
  - expression: "variables.exempt || variables.containersToCheck.all(c, c.image.startsWith(variables.environment + '.'))"
    messageExpression: "'only ' + variables.environment + ' images are allowed in namespace ' + namespaceObject.metadata.name"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: image-env}
spec:
  policyName: "image-matches-namespace-environment.policy.example.com"
  validationActions: [Deny]
---
apiVersion: v1
kind: Namespace
metadata:
  name: batch
  labels: {environment: staging}
"""


def with_image(image: str, **labels: str) -> dict:
    j = job()
    j["spec"]["template"]["spec"]["containers"][0]["image"] = image
    j["metadata"]["labels"].update(labels)
    return j


def test_image_matches_namespace_environment_example(tmp_path):
    assert admission_violations(check(tmp_path, IMAGE_MATCHES_NAMESPACE, with_image("staging.example.com/etl:1"))) == []
    assert admission_violations(check(tmp_path, IMAGE_MATCHES_NAMESPACE, with_image("registry.corp/etl:1"))) == []
    result = check(tmp_path, IMAGE_MATCHES_NAMESPACE, with_image("prod.example.com/etl:1"))
    assert messages(result) == ["only staging images are allowed in namespace batch"]
    assert admission_violations(check(tmp_path, IMAGE_MATCHES_NAMESPACE,
                                      with_image("prod.example.com/etl:1", exempt="true"))) == []


# docs: validatingadmissionpolicy/policy-with-param.yaml + binding-with-param.yaml + replicalimit-param.yaml,
# matched to Jobs with spec.parallelism for spec.replicas
REPLICA_LIMIT = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: "replicalimit-policy.example.com"
spec:
  failurePolicy: Fail
  paramKind:
    apiVersion: rules.example.com/v1
    kind: ReplicaLimit
  matchConstraints:
    resourceRules:
    - apiGroups:   ["batch"]
      apiVersions: ["v1"]
      operations:  ["CREATE", "UPDATE"]
      resources:   ["jobs"]
  validations:
    - expression: "object.spec.parallelism <= params.maxReplicas"
      messageExpression: "'object.spec.parallelism must be no greater than ' + string(params.maxReplicas)"
      reason: Invalid
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: "replicalimit-binding-test.example.com"
spec:
  policyName: "replicalimit-policy.example.com"
  validationActions: [Deny]
  paramRef:
    name: "replica-limit-test.example.com"
    namespace: "default"
    parameterNotFoundAction: Deny
  matchResources:
    namespaceSelector:
      matchLabels:
        environment: test
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: "replicalimit-binding-nontest"
spec:
  policyName: "replicalimit-policy.example.com"
  validationActions: [Deny]
  paramRef:
    name: "replica-limit-prod.example.com"
    namespace: "default"
    parameterNotFoundAction: Deny
  matchResources:
    namespaceSelector:
      matchExpressions:
      - key: environment
        operator: NotIn
        values:
        - test
---
apiVersion: rules.example.com/v1
kind: ReplicaLimit
metadata:
  name: "replica-limit-test.example.com"
  namespace: "default"
maxReplicas: 3
---
apiVersion: rules.example.com/v1
kind: ReplicaLimit
metadata:
  name: "replica-limit-prod.example.com"
  namespace: "default"
maxReplicas: 100
---
apiVersion: v1
kind: Namespace
metadata: {name: batch, labels: {environment: test}}
---
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {environment: prod}}
"""


def test_replica_limit_example_with_custom_resource_params(tmp_path):
    assert admission_violations(check(tmp_path, REPLICA_LIMIT, job(spec__parallelism=3))) == []
    result = check(tmp_path, REPLICA_LIMIT, job(spec__parallelism=4))
    assert messages(result) == ["object.spec.parallelism must be no greater than 3"]
    prod = job(spec__parallelism=50, metadata__namespace="prod")
    assert admission_violations(check(tmp_path, REPLICA_LIMIT, prod)) == []
    result = check(tmp_path, REPLICA_LIMIT, job(spec__parallelism=101, metadata__namespace="prod"))
    assert messages(result) == ["object.spec.parallelism must be no greater than 100"]


# docs: access/validating-admission-policy-match-conditions.yaml (its validation misspells
# startsWith: the API server refuses that policy, and so does podc)
MATCH_CONDITIONS = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: "demo-policy.example.com"
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - apiGroups:   ["*"]
        apiVersions: ["*"]
        operations:  ["CREATE", "UPDATE"]
        resources:   ["*"]
  matchConditions:
    - name: 'exclude-leases' # Each match condition must have a unique name
      expression: '!(request.resource.group == "coordination.k8s.io" && request.resource.resource == "leases")'
    - name: 'exclude-kubelet-requests'
      expression: '!("system:nodes" in request.userInfo.groups)'
    - name: 'rbac' # Skip RBAC requests.
      expression: 'request.resource.group != "rbac.authorization.k8s.io"'
  validations:
    - expression: "object.metadata.name.startsWith('demo')"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: demo-binding-test.example.com}
spec:
  policyName: demo-policy.example.com
  validationActions: [Warn]
"""


def test_match_conditions_example(tmp_path):
    result = check(tmp_path, MATCH_CONDITIONS, job())
    # the Job (named etl) and the Pod it creates (etl-…) both fail startsWith('demo'): warnings
    assert admission_violations(result) == [("admission/demo-policy.example.com", "validation-0", "warning")] * 2
    assert messages(result)[0] == "failed expression: object.metadata.name.startsWith('demo')"
    assert admission_violations(check(tmp_path, MATCH_CONDITIONS, job(metadata__name="demo-etl"))) == []
    typo = MATCH_CONDITIONS.replace("startsWith('demo')", "startWith('demo')")
    from _admission_util import load, write

    _, diags = load([write(tmp_path, "typo.yaml", typo)], ok=False)
    assert [d.code for d in diags.errors] == ["admission.cel"] and "did you mean 'startsWith'" in diags.errors[0].message


# docs: access/validating-admission-policy-audit-annotation.yaml, matched to Jobs
AUDIT_ANNOTATION = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: "demo-policy.example.com"
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [batch], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [jobs]}
  validations:
  - expression: "object.spec.parallelism > 50"
    messageExpression: "'Job spec.parallelism set to ' + string(object.spec.parallelism)"
  auditAnnotations:
  - key: "high-replica-count"
    valueExpression: "'Job spec.parallelism set to ' + string(object.spec.parallelism)"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: audit}
spec:
  policyName: demo-policy.example.com
  validationActions: [Audit]
"""


def test_audit_annotation_example(tmp_path):
    assert admission_violations(check(tmp_path, AUDIT_ANNOTATION, job(spec__parallelism=60))) == []
    result = check(tmp_path, AUDIT_ANNOTATION, job(spec__parallelism=2))
    assert admission_violations(result) == [("admission/demo-policy.example.com", "validation-0", "info")]
    assert messages(result) == ["Job spec.parallelism set to 2"]
    assert not result.failed  # Audit never fails the run at the default --fail-on error
