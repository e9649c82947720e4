"""Each best-practices rule fires on a violating Job and stays quiet on a compliant one."""

from __future__ import annotations

import pytest

from podc.check.practices import PracticesConfig, evaluate, load_pack, rule_ids

from _checkutil import clean_job, container, document


def fired(manifest: dict, cfg: PracticesConfig | None = None) -> dict[str, list]:
    out: dict[str, list] = {}
    for v in evaluate(document(manifest), cfg):
        out.setdefault(v.rule, []).append(v)
    return out


def test_clean_job_passes_every_rule():
    assert fired(clean_job()) == {}


def test_pack_is_data_with_rationale_hint_and_severity():
    pack = load_pack()
    assert set(pack) == set(rule_ids())
    for rule in pack.values():
        assert rule.severity in ("error", "warning", "info")
        assert rule.rationale and rule.hint and rule.title
        assert rule.pos.line > 0  # located in pack.yaml


def _no_memory_limit(job):
    del container(job)["resources"]["limits"]


def _no_cpu_request(job):
    del container(job)["resources"]["requests"]["cpu"]


def _latest(job):
    container(job)["image"] = "registry.corp/etl:latest"


def _untagged(job):
    container(job)["image"] = "busybox"


def _tag_only(job):
    container(job)["image"] = "registry.corp/etl:1.2.3"


def _no_ttl(job):
    del job["spec"]["ttlSecondsAfterFinished"]


def _huge_ttl(job):
    job["spec"]["ttlSecondsAfterFinished"] = 10**9


def _no_backoff(job):
    del job["spec"]["backoffLimit"]


def _huge_backoff(job):
    job["spec"]["backoffLimit"] = 50


def _no_deadline(job):
    del job["spec"]["activeDeadlineSeconds"]


def _secret_env(job):
    container(job)["env"] = [{"name": "DB_PASSWORD", "value": "hunter2-s3cr3t"}]


def _writable_root(job):
    container(job)["securityContext"]["readOnlyRootFilesystem"] = False


def _automount(job):
    del job["spec"]["template"]["spec"]["automountServiceAccountToken"]


CASES = [
    ("memory-limit", _no_memory_limit, "/spec/template/spec/containers/0/resources"),
    ("cpu-request", _no_cpu_request, "/spec/template/spec/containers/0/resources/requests"),
    ("image-tag", _latest, "/spec/template/spec/containers/0/image"),
    ("image-tag", _untagged, "/spec/template/spec/containers/0/image"),
    ("image-digest", _tag_only, "/spec/template/spec/containers/0/image"),
    ("ttl-after-finished", _no_ttl, "/spec"),
    ("ttl-after-finished", _huge_ttl, "/spec/ttlSecondsAfterFinished"),
    ("backoff-limit", _no_backoff, "/spec"),
    ("backoff-limit", _huge_backoff, "/spec/backoffLimit"),
    ("active-deadline", _no_deadline, "/spec"),
    ("literal-secret-env", _secret_env, "/spec/template/spec/containers/0/env/0/value"),
    ("read-only-root-filesystem", _writable_root, "/spec/template/spec/containers/0/securityContext/readOnlyRootFilesystem"),
    ("automount-service-account-token", _automount, "/spec/template/spec"),
]


@pytest.mark.parametrize("rule, breaker, path", CASES, ids=[f"{c[0]}-{c[1].__name__}" for c in CASES])
def test_rule_fires_only_for_its_violation(rule, breaker, path):
    job = clean_job()
    breaker(job)
    hits = fired(job)
    assert set(hits) == {rule}, hits
    assert [v.path for v in hits[rule]] == [path]
    assert hits[rule][0].severity == load_pack()[rule].severity
    assert hits[rule][0].pos.line > 1  # located in the document, not at its start


def test_latest_image_does_not_also_ask_for_a_digest():
    job = clean_job()
    _latest(job)
    assert "image-digest" not in fired(job)


def test_secret_value_never_appears_in_the_message():
    job = clean_job()
    container(job)["env"] = [{"name": "API_TOKEN", "value": "tok-9f8e7d"}, {"name": "MODE", "value": "fast"},
                             {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "a", "key": "b"}}}]
    hits = fired(job)["literal-secret-env"]
    assert len(hits) == 1
    assert "API_TOKEN" in hits[0].message
    assert "tok-9f8e7d" not in hits[0].message and "tok-9f8e7d" not in (hits[0].hint or "")


def test_automount_allowed_with_dedicated_service_account():
    job = clean_job()
    pod = job["spec"]["template"]["spec"]
    pod["automountServiceAccountToken"] = True
    assert "automount-service-account-token" in fired(job)
    pod["serviceAccountName"] = "etl-runner"
    assert "automount-service-account-token" not in fired(job)


def test_required_labels_param():
    job = clean_job()
    cfg = PracticesConfig(params={"required-labels": {"labels": ["team", "cost-center"]}})
    hits = fired(job, cfg)
    assert set(hits) == {"required-labels"}
    assert "cost-center" in hits["required-labels"][0].message and "team" not in hits["required-labels"][0].message
    job["metadata"]["labels"]["cost-center"] = "42"
    assert fired(job, cfg) == {}


def test_bounds_are_parameters():
    job = clean_job(backoffLimit=5)
    assert fired(job) == {}
    hits = fired(job, PracticesConfig(params={"backoff-limit": {"max": 3}}))
    assert "5" in hits["backoff-limit"][0].message and "3" in hits["backoff-limit"][0].message


def test_disable_and_severity_override():
    job = clean_job()
    _tag_only(job)
    assert fired(job, PracticesConfig(disabled=frozenset({"image-digest"}))) == {}
    hits = fired(job, PracticesConfig(severity={"image-digest": "error"}))
    assert hits["image-digest"][0].severity == "error"
    assert fired(job, PracticesConfig(enabled=False)) == {}


def test_init_containers_and_cronjobs_are_covered():
    job = clean_job()
    init = dict(container(job), name="setup", image="busybox:latest")
    job["spec"]["template"]["spec"]["initContainers"] = [init]
    hits = fired(job)
    assert [v.path for v in hits["image-tag"]] == ["/spec/template/spec/initContainers/0/image"]
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": job["metadata"],
            "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {k: v for k, v in job["spec"].items()
                                                                       if k != "backoffLimit"}}}}
    hits = fired(cron)
    assert [v.path for v in hits["backoff-limit"]] == ["/spec/jobTemplate/spec"]
    assert "image-tag" in hits


def test_job_rules_skip_deployments():
    job = clean_job()
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": job["metadata"],
              "spec": {"selector": {"matchLabels": {"team": "data"}}, "template": job["spec"]["template"]}}
    assert fired(deploy) == {}


def test_no_check_prints_a_secret_value():
    """Schema messages quote offending values; a secret-looking env value is redacted everywhere."""
    from podc.check.engine import CheckOptions, check_documents

    job = clean_job()
    container(job)["env"] = [{"name": "DB_PASSWORD", "value": 987654321}]
    result = check_documents([document(job)], CheckOptions())
    rules = {(v.policy, v.rule) for v in result.violations()}
    assert ("best-practices", "literal-secret-env") in rules and ("schema", "schema.type") in rules
    for v in result.violations():
        assert "987654321" not in v.message and "987654321" not in (v.hint or "")


# --- literal-secret-env: which names look secret -------------------------------------------------

SECRET_LOOKING = ["DB_PASSWORD", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "apiKey", "APIKey", "api-key", "API_KEY",
                  "X_API_KEY", "STRIPE_APIKEY", "PGPASSWORD", "MYSQL_PWD", "DB_PASSWD", "SMTP_PASS",
                  "OAUTH_CLIENT_SECRET", "clientSecret", "SSH_PRIVATE_KEY", "ssh.privateKey", "JWT_SIGNING_KEY",
                  "DATA_ENCRYPTION_KEY", "MINIO_ACCESS_KEY", "GCP_CREDENTIALS", "registryCredential",
                  "TOKEN", "SECRET", "dbPassword2", "GPG_PASSPHRASE"]
NOT_SECRET = ["DAGSTER_RUN_STEP_KEY", "PRIMARY_KEY", "CACHE_KEY", "SORT_KEY", "MONKEY", "KEY", "KEYS",
              "PASSWORD_FILE", "DB_PASSWORD_FILE", "GOOGLE_APPLICATION_CREDENTIALS_PATH", "TLS_KEY_FILE",
              "OAUTH_TOKEN_URL", "TOKEN_TTL", "SECRET_NAME", "AWS_ACCESS_KEY_ID", "TOKENIZERS_PARALLELISM",
              "MAX_TOKENS", "PWD", "OLDPWD", "PASSPORT_NUMBER", "KEYBOARD_LAYOUT", "TURKEY_REGION",
              "passwordFile", "DAGSTER_HOME"]


@pytest.mark.parametrize("name", SECRET_LOOKING)
def test_secret_looking_names_trigger(name):
    job = clean_job()
    container(job)["env"] = [{"name": name, "value": "v-123456"}]
    hits = fired(job)
    assert set(hits) == {"literal-secret-env"}, name
    assert name in hits["literal-secret-env"][0].message and "v-123456" not in hits["literal-secret-env"][0].message


@pytest.mark.parametrize("name", NOT_SECRET)
def test_non_secret_names_do_not_trigger(name):
    job = clean_job()
    container(job)["env"] = [{"name": name, "value": "v-123456"}]
    assert fired(job) == {}, name


def test_message_says_which_word_looked_secret():
    job = clean_job()
    container(job)["env"] = [{"name": "AWS_ACCESS_KEY", "value": "AKIAxyz"}]
    assert "ACCESS_KEY" in fired(job)["literal-secret-env"][0].message


def test_secret_name_lists_are_parameters():
    """A project extends the lists (replacing a list: it copies the default and adds)."""
    job = clean_job()
    container(job)["env"] = [{"name": "DATABASE_DSN", "value": "postgres://h/db"},
                             {"name": "DB_PASSWORD_HASH", "value": "abc123"}]
    assert set(v.message.split()[3] for v in fired(job)["literal-secret-env"]) == {"DB_PASSWORD_HASH"}
    defaults = load_pack()["literal-secret-env"].params
    cfg = PracticesConfig(params={"literal-secret-env": {
        "words": [*defaults["words"], "DSN"], "ignoreSuffixes": [*defaults["ignoreSuffixes"], "HASH"]}})
    assert [v.message.split()[3] for v in fired(job, cfg)["literal-secret-env"]] == ["DATABASE_DSN"]


def test_pair_param_accepts_any_spelling():
    job = clean_job()
    container(job)["env"] = [{"name": "STEP_KEY", "value": "abc"}]
    assert fired(job) == {}
    cfg = PracticesConfig(params={"literal-secret-env": {"pairs": ["stepKey"]}})
    assert "STEP_KEY" in fired(job, cfg)["literal-secret-env"][0].message


def test_unknown_secret_param_is_a_located_error():
    from podc.check.practices import config_from_project
    from podc.errors import Diagnostics, Pos

    diags = Diagnostics()
    config_from_project({"params": {"literal-secret-env": {"namePatterns": ["KEY"]}}}, lambda keys: Pos("p.yaml", 3, 1),
                        diags)
    assert [d.code for d in diags.errors] == ["policy.unknown-param"]
    assert "words" in diags.errors[0].hint


def test_redaction_follows_the_secret_name_rules():
    from podc.check.practices import secret_literals

    job = clean_job()
    container(job)["env"] = [{"name": "DAGSTER_RUN_STEP_KEY", "value": "step-one"},
                             {"name": "GITHUB_TOKEN", "value": "ghp_abcdef"}]
    assert secret_literals(document(job)) == ["ghp_abcdef"]
    assert secret_literals(document(job), {"words": ["KEY"]}) == ["step-one"]


def test_ignore_suffix_may_be_several_words():
    job = clean_job()
    container(job)["env"] = [{"name": "VAULT_TOKEN_REF_KEY", "value": "kv/app"},
                             {"name": "API_TOKEN", "value": "x-y-z"}]
    cfg = PracticesConfig(params={"literal-secret-env": {"ignoreSuffixes": ["refKey"], "words": ["TOKEN"]}})
    assert [v.message.split()[3] for v in fired(job, cfg)["literal-secret-env"]] == ["API_TOKEN"]


def test_run_as_non_root_without_user_is_a_warning_with_the_fix():
    job = clean_job()
    del container(job)["securityContext"]["runAsUser"]
    (v,) = fired(job)["run-as-non-root-without-user"]
    assert v.severity == "warning" and "runAsUser" in (v.hint or "") and "USER" in v.message
    job["spec"]["template"]["spec"]["securityContext"] = {"runAsUser": 1000}  # the pod's user counts
    assert "run-as-non-root-without-user" not in fired(job)
