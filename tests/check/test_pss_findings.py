"""Findings of the built-in Pod Security Standards pack on hand-written pods: which check fires,
where the finding points, what it says; plus level/version parsing and pack validation."""

from __future__ import annotations

import copy

import pytest

from podc.check.pss import (
    PackError,
    PssFinding,
    applicable_checks,
    check_info,
    compile_pack,
    evaluate_pod,
    parse_level_version,
)
from podc.errors import PodcError


def restricted_pod() -> dict:
    """A pod spec that passes restricted at every version."""
    return {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "app", "image": "busybox",
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        }],
    }


def by_check(findings: list[PssFinding]) -> dict[str, list[PssFinding]]:
    out: dict[str, list[PssFinding]] = {}
    for f in findings:
        out.setdefault(f.check_id, []).append(f)
    return out


def test_compliant_pod_has_no_findings_at_any_version() -> None:
    for minor in range(38):
        assert evaluate_pod({}, restricted_pod(), "restricted", f"v1.{minor}") == []


def test_bare_container_points_at_the_container_and_says_what_to_add() -> None:
    spec = {"containers": [{"name": "app", "image": "busybox"}]}
    found = by_check(evaluate_pod({}, spec, "restricted", "latest"))
    assert set(found) == {"allowPrivilegeEscalation", "runAsNonRoot", "seccompProfile_restricted",
                          "capabilities_restricted"}
    assert all(f.path == "/containers/0" for fs in found.values() for f in fs)
    assert found["runAsNonRoot"][0].message == (
        'runAsNonRoot != true: pod or container "app" must set securityContext.runAsNonRoot=true')
    assert found["allowPrivilegeEscalation"][0].message == (
        'allowPrivilegeEscalation != false: container "app" must set '
        "securityContext.allowPrivilegeEscalation=false")
    assert 'must set securityContext.capabilities.drop=["ALL"]' in found["capabilities_restricted"][0].message
    assert '"RuntimeDefault" or "Localhost"' in found["seccompProfile_restricted"][0].message
    assert all(f.level == "restricted" for fs in found.values() for f in fs)
    assert found["runAsNonRoot"][0].hint == check_info("runAsNonRoot")["hint"]


def test_absent_field_points_at_nearest_existing_parent() -> None:
    spec = {"containers": [{"name": "app", "securityContext": {"seccompProfile": {}, "capabilities": {}}}]}
    found = by_check(evaluate_pod({}, spec, "restricted", "latest"))
    assert found["allowPrivilegeEscalation"][0].path == "/containers/0/securityContext"
    assert found["seccompProfile_restricted"][0].path == "/containers/0/securityContext/seccompProfile"
    assert found["capabilities_restricted"][0].path == "/containers/0/securityContext/capabilities"


def test_capabilities_paths_point_at_list_items() -> None:
    spec = restricted_pod()
    spec["containers"][0]["securityContext"]["capabilities"] = {
        "add": ["NET_BIND_SERVICE", "SYS_ADMIN"], "drop": ["NET_RAW"]}
    found = evaluate_pod({}, spec, "restricted", "latest")
    assert [(f.check_id, f.path) for f in found] == [
        ("capabilities_restricted", "/containers/0/securityContext/capabilities/add/1"),
        ("capabilities_restricted", "/containers/0/securityContext/capabilities/drop"),
    ]
    assert '"SYS_ADMIN"' in found[0].message
    # baseline: only the capability outside the default set, reported by the baseline check
    base = evaluate_pod({}, spec, "baseline", "latest")
    assert [(f.check_id, f.path, f.level) for f in base] == [
        ("capabilities_baseline", "/containers/0/securityContext/capabilities/add/1", "baseline")]


def test_metadata_paths_escape_annotation_keys() -> None:
    meta = {"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "unconfined",
                            "container.apparmor.security.beta.kubernetes.io/ok": "localhost/prof"}}
    found = evaluate_pod(meta, restricted_pod(), "baseline", "latest")
    assert [(f.check_id, f.path) for f in found] == [
        ("appArmorProfile", "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1app")]
    assert found[0].message == ('forbidden AppArmor profile: '
                                'container.apparmor.security.beta.kubernetes.io/app="unconfined"')


def test_apparmor_field_form() -> None:
    spec = restricted_pod()
    spec["securityContext"]["appArmorProfile"] = {"type": "Unconfined"}
    spec["containers"][0]["securityContext"]["appArmorProfile"] = {"type": "Localhost",
                                                                    "localhostProfile": "p"}
    found = evaluate_pod({}, spec, "baseline", "latest")
    assert [(f.check_id, f.path) for f in found] == [
        ("appArmorProfile", "/securityContext/appArmorProfile/type")]


def test_every_container_kind_is_checked() -> None:
    spec = restricted_pod()
    spec["initContainers"] = [copy.deepcopy(spec["containers"][0]) | {"name": "init"}]
    spec["ephemeralContainers"] = [copy.deepcopy(spec["containers"][0]) | {"name": "debug"}]
    spec["initContainers"][0]["securityContext"]["privileged"] = True
    spec["ephemeralContainers"][0]["securityContext"]["procMount"] = "Unmasked"
    found = evaluate_pod({}, spec, "baseline", "latest")
    assert [(f.check_id, f.path) for f in found] == [
        ("privileged", "/initContainers/0/securityContext/privileged"),
        ("procMount", "/ephemeralContainers/0/securityContext/procMount"),
    ]
    assert 'container "init" must not set securityContext.privileged=true' in found[0].message


def test_host_ports_volumes_and_namespaces() -> None:
    spec = restricted_pod()
    spec["hostPID"] = True
    spec["containers"][0]["ports"] = [{"containerPort": 80}, {"containerPort": 81, "hostPort": 8081}]
    spec["volumes"] = [{"name": "plain"}, {"name": "data", "nfs": {"server": "s", "path": "/"}},
                       {"name": "host", "hostPath": {"path": "/"}}]
    found = evaluate_pod({}, spec, "restricted", "latest")
    assert [(f.check_id, f.level, f.path) for f in found] == [
        ("hostNamespaces", "baseline", "/hostPID"),
        ("hostPorts", "baseline", "/containers/0/ports/1/hostPort"),
        ("restrictedVolumes", "restricted", "/volumes/1/nfs"),
        ("restrictedVolumes", "restricted", "/volumes/2/hostPath"),
    ]
    # at baseline the hostPath volume is reported by its own check, nfs is allowed
    base = [(f.check_id, f.path) for f in evaluate_pod({}, spec, "baseline", "latest")]
    assert ("hostPathVolumes", "/volumes/2/hostPath") in base
    assert all(path != "/volumes/1/nfs" for _, path in base)


def test_pod_level_bad_value_is_reported_once_at_the_pod() -> None:
    spec = restricted_pod()
    spec["securityContext"]["runAsNonRoot"] = False
    spec["containers"].append({"name": "side", "securityContext": {"allowPrivilegeEscalation": False,
                                                                    "capabilities": {"drop": ["ALL"]}}})
    found = by_check(evaluate_pod({}, spec, "restricted", "latest"))
    assert [(f.path, f.message) for f in found["runAsNonRoot"]] == [
        ("/securityContext/runAsNonRoot",
         "runAsNonRoot != true: pod must not set securityContext.runAsNonRoot=false")]


def test_container_level_value_overrides_missing_pod_level() -> None:
    spec = restricted_pod()
    del spec["securityContext"]["runAsNonRoot"]
    spec["containers"][0]["securityContext"]["runAsNonRoot"] = True
    assert evaluate_pod({}, spec, "restricted", "latest") == []
    spec["containers"][0]["securityContext"]["runAsNonRoot"] = 1  # not the boolean true
    found = evaluate_pod({}, spec, "restricted", "latest")
    assert [(f.check_id, f.path) for f in found] == [
        ("runAsNonRoot", "/containers/0/securityContext/runAsNonRoot")]


@pytest.mark.parametrize(("mutate", "check_id", "path", "denied_from"), [
    (lambda s: s["securityContext"].update(sysctls=[{"name": "net.ipv4.ip_local_reserved_ports", "value": "1"}]),
     "sysctls", "/securityContext/sysctls/0/name", 27),
    (lambda s: s["securityContext"].update(sysctls=[{"name": "net.ipv4.tcp_keepalive_time", "value": "1"}]),
     "sysctls", "/securityContext/sysctls/0/name", 29),
    (lambda s: s["securityContext"].update(sysctls=[{"name": "net.ipv4.tcp_rmem", "value": "1 2 3"}]),
     "sysctls", "/securityContext/sysctls/0/name", 32),
    (lambda s: s["securityContext"].update(sysctls=[{"name": "net.ipv4.tcp_notsent_lowat", "value": "1"}]),
     "sysctls", "/securityContext/sysctls/0/name", 37),
    (lambda s: s["securityContext"].update(seLinuxOptions={"type": "container_engine_t"}),
     "seLinuxOptions", "/securityContext/seLinuxOptions/type", 31),
], ids=["sysctl-1.27", "sysctl-1.29", "sysctl-1.32", "sysctl-1.37", "selinux-engine-1.31"])
def test_allowed_sets_grow_with_version(mutate, check_id: str, path: str, denied_from: int) -> None:
    """Values added to an allowed set at v1.N are denied at v1.(N-1) and allowed from v1.N."""
    spec = restricted_pod()
    mutate(spec)
    before = evaluate_pod({}, spec, "baseline", f"v1.{denied_from - 1}")
    assert [(f.check_id, f.path) for f in before] == [(check_id, path)]
    assert evaluate_pod({}, spec, "baseline", f"v1.{denied_from}") == []
    assert evaluate_pod({}, spec, "restricted", "latest") == []


def test_probe_and_lifecycle_host_from_1_34() -> None:
    spec = restricted_pod()
    spec["containers"][0]["livenessProbe"] = {"httpGet": {"port": 80, "host": "10.0.0.1"}}
    spec["containers"][0]["lifecycle"] = {"preStop": {"tcpSocket": {"port": 80, "host": "h"}}}
    assert evaluate_pod({}, spec, "baseline", "v1.33") == []
    found = evaluate_pod({}, spec, "baseline", "v1.34")
    assert [(f.check_id, f.path) for f in found] == [
        ("hostProbesAndHostLifecycle", "/containers/0/livenessProbe/httpGet/host"),
        ("hostProbesAndHostLifecycle", "/containers/0/lifecycle/preStop/tcpSocket/host"),
    ]
    assert '"10.0.0.1"' in found[0].message


def test_proc_mount_relaxed_for_user_namespaces_from_1_35_except_restricted() -> None:
    spec = restricted_pod()
    spec["hostUsers"] = False
    spec["containers"][0]["securityContext"]["procMount"] = "Unmasked"
    assert [f.check_id for f in evaluate_pod({}, spec, "baseline", "v1.34")] == ["procMount"]
    assert evaluate_pod({}, spec, "baseline", "v1.35") == []
    assert [f.check_id for f in evaluate_pod({}, spec, "restricted", "v1.35")] == ["procMount_restricted"]
    spec["hostUsers"] = True
    assert [f.check_id for f in evaluate_pod({}, spec, "restricted", "v1.35")] == [
        "procMount", "procMount_restricted"]


def test_windows_pods_exempt_from_linux_only_restricted_checks_from_1_25() -> None:
    spec = {"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": True},
            "containers": [{"name": "win"}]}
    at_1_24 = {f.check_id for f in evaluate_pod({}, spec, "restricted", "v1.24")}
    assert at_1_24 == {"allowPrivilegeEscalation", "seccompProfile_restricted", "capabilities_restricted"}
    assert evaluate_pod({}, spec, "restricted", "v1.25") == []
    del spec["securityContext"]["runAsNonRoot"]  # runAsNonRoot is not exempt
    assert [f.check_id for f in evaluate_pod({}, spec, "restricted", "v1.25")] == ["runAsNonRoot"]


def test_checks_appear_at_their_versions() -> None:
    assert "allowPrivilegeEscalation" not in applicable_checks("restricted", "v1.7")
    assert "allowPrivilegeEscalation" in applicable_checks("restricted", "v1.8")
    assert "runAsUser" not in applicable_checks("restricted", "v1.22")
    assert "runAsUser" in applicable_checks("restricted", "v1.23")
    assert "seccompProfile_baseline" in applicable_checks("restricted", "v1.18")
    assert "seccompProfile_baseline" not in applicable_checks("restricted", "v1.19")
    assert applicable_checks("privileged", "latest") == []
    assert set(applicable_checks("baseline")) < set(applicable_checks("restricted")) | {
        "capabilities_baseline", "hostPathVolumes", "seccompProfile_baseline"}


def test_seccomp_annotations_before_1_19_fields_after() -> None:
    meta = {"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}}
    spec = {"containers": [{"name": "app", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]}
    old = evaluate_pod(meta, spec, "baseline", "v1.18")
    assert [(f.check_id, f.path) for f in old] == [
        ("seccompProfile_baseline", "/metadata/annotations/seccomp.security.alpha.kubernetes.io~1pod")]
    new = evaluate_pod(meta, spec, "baseline", "v1.19")
    assert [(f.check_id, f.path) for f in new] == [
        ("seccompProfile_baseline", "/containers/0/securityContext/seccompProfile/type")]


def test_run_as_user_zero_from_1_23() -> None:
    spec = restricted_pod()
    spec["securityContext"]["runAsUser"] = 0
    assert evaluate_pod({}, spec, "restricted", "v1.22") == []
    found = evaluate_pod({}, spec, "restricted", "v1.23")
    assert [(f.check_id, f.path, f.message) for f in found] == [
        ("runAsUser", "/securityContext/runAsUser", "runAsUser=0: pod must not set securityContext.runAsUser=0")]


def test_malformed_input_does_not_crash() -> None:
    bad_specs = [
        None, {}, {"containers": "nope"}, {"containers": [None, 3, {"securityContext": "x"}]},
        {"securityContext": [], "volumes": [None, {"name": "v", "hostPath": None}]},
        {"containers": [{"name": "a", "securityContext": {"capabilities": {"add": "SYS_ADMIN"}}}]},
        {"securityContext": {"sysctls": [{"name": ["x"]}, "junk"]}},
        {"containers": [{"name": "a", "securityContext": {"capabilities": {"add": [{"x": 1}], "drop": "ALL"}}}]},
        {"containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": ["x"]}}}]},
    ]
    for spec in bad_specs:
        findings = evaluate_pod({"annotations": None}, spec, "restricted", "latest")
        assert all(isinstance(f, PssFinding) for f in findings)
    # a list where a seccomp type belongs is not an allowed value
    found = evaluate_pod({}, bad_specs[-1], "restricted", "latest")
    assert ("seccompProfile_restricted", "/containers/0/securityContext/seccompProfile/type") in [
        (f.check_id, f.path) for f in found]


def test_results_are_deterministic() -> None:
    spec = {"containers": [{"name": n} for n in ("a", "b", "c")], "hostIPC": True}
    first = evaluate_pod({}, spec)
    assert first == evaluate_pod({}, copy.deepcopy(spec))
    assert len(first) == 1 + 3 * 4


# ------------------------------------------------------------------------------ parsing

@pytest.mark.parametrize(("text", "expected"), [
    ("restricted:v1.30", ("restricted", "v1.30")),
    ("baseline", ("baseline", "latest")),
    ("restricted:latest", ("restricted", "latest")),
    ("restricted:1.25", ("restricted", "v1.25")),
    (" baseline:v1.0 ", ("baseline", "v1.0")),
    ("privileged", ("privileged", "latest")),
])
def test_parse_level_version(text: str, expected: tuple[str, str]) -> None:
    assert parse_level_version(text) == expected


@pytest.mark.parametrize(("text", "code", "message_part", "hint_part"), [
    ("restrcted", "pss.bad-level", 'unknown Pod Security level "restrcted"', 'did you mean "restricted"'),
    ("Baseline:v1.2", "pss.bad-level", '"Baseline"', 'did you mean "baseline"'),
    ("strict:v1.30", "pss.bad-level", '"strict"', 'did you mean "restricted"'),
    ("high", "pss.bad-level", '"high"', "use one of: privileged, baseline, restricted"),
    ("", "pss.bad-level", "empty", "restricted:v1.30"),
    ("restricted:lastest", "pss.bad-version", '"lastest"', 'did you mean "latest"'),
    ("restricted:v1.x", "pss.bad-version", "v1.<minor>", "v1.37"),
    ("restricted:v2.0", "pss.bad-version", "only v1.x", "v1.0 to v1.37"),
    ("restricted:v1.99", "pss.bad-version", "newer than", "latest"),
])
def test_parse_level_version_errors(text: str, code: str, message_part: str, hint_part: str) -> None:
    with pytest.raises(PodcError) as info:
        parse_level_version(text)
    (diag,) = info.value.diagnostics
    assert diag.code == code
    assert message_part in diag.message
    assert hint_part in (diag.hint or "")


def test_evaluate_pod_rejects_bad_level_and_version() -> None:
    with pytest.raises(PodcError, match="unknown Pod Security level"):
        evaluate_pod({}, restricted_pod(), "restricte")
    with pytest.raises(PodcError, match="newer than"):
        evaluate_pod({}, restricted_pod(), "restricted", "v1.38")


# -------------------------------------------------------------------------- pack checks

def _pack(rule: dict, **check: object) -> dict:
    entry = {"id": "x", "level": "baseline", "reason": "r", "rationale": "why", "hint": "fix",
             "variants": [{"since": "1.0", "rules": [rule]}]} | check
    return {"latest": "1.37", "checks": [entry]}


@pytest.mark.parametrize(("raw", "message_part"), [
    (_pack({"kind": "nope"}), "unknown rule kind 'nope'"),
    (_pack({"kind": "security_context", "field": "privileged"}), "exactly one of allowed/forbidden"),
    (_pack({"kind": "volumes", "allowed": ["a"], "forbidden": ["b"]}), "exactly one of allowed/forbidden"),
    (_pack({"kind": "host_ports"}, level="strict"), "level must be baseline or restricted"),
    (_pack({"kind": "host_ports"}, hint=""), "missing hint"),
    ({"latest": "2.0", "checks": []}, "latest"),
    ({"latest": "1.37", "checks": [_pack({"kind": "host_ports"})["checks"][0]] * 2}, "duplicate id"),
])
def test_pack_validation(raw: dict, message_part: str) -> None:
    with pytest.raises(PackError, match=message_part.replace("(", r"\(").replace(")", r"\)")):
        compile_pack(raw, "test-pack")


def test_pack_overrides_must_name_known_checks() -> None:
    raw = _pack({"kind": "host_ports"})
    raw["checks"][0]["variants"][0]["overrides"] = ["ghost"]
    with pytest.raises(PackError, match="overrides unknown checks"):
        compile_pack(raw)


def test_check_info() -> None:
    info = check_info("RUNASNONROOT")
    assert info["id"] == "runAsNonRoot" and info["level"] == "restricted" and info["since"] == ["v1.0"]
    assert check_info("sysctls")["since"] == ["v1.0", "v1.27", "v1.29", "v1.32", "v1.37"]
    with pytest.raises(PodcError, match="unknown Pod Security check"):
        check_info("runAsNonRot")


def test_broken_installed_pack_is_a_podc_error(tmp_path, monkeypatch) -> None:
    import podc.check.pss as pss
    import podc.resources as resources

    (tmp_path / "pod-security").mkdir()
    (tmp_path / "pod-security" / "pack.yaml").write_text("latest: '1.37'\nchecks: [{id: x}]\n")
    monkeypatch.setattr(pss, "_pack", None)
    monkeypatch.setattr(pss, "_plans", {})
    monkeypatch.setattr(pss, "_plans_by_text", {})
    monkeypatch.setattr(resources, "data_path", lambda kind: tmp_path)
    with pytest.raises(PodcError) as info:
        evaluate_pod({}, restricted_pod(), "restricted", "latest")
    (diag,) = info.value.diagnostics
    assert diag.code == "pss.bad-pack"
    assert "check 'x'" in diag.message and "reinstall podc" in (diag.hint or "")
