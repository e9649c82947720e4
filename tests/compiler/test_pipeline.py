"""The library API: layer order, extends, profiles, targets, in-memory layers, diagnostics."""

from __future__ import annotations

from pathlib import Path

import pytest

import podc
from compiler_helpers import write_files
from podc.errors import PodcError


def main_container(job) -> dict:
    return job.manifest["spec"]["template"]["spec"]["containers"][0]


def env_of(job) -> dict:
    return {e["name"]: e.get("value") for e in main_container(job).get("env", [])}


def jobs_by_name(result) -> dict:
    return {j.target: j for j in result.jobs}


def test_simple_project_layer_order_and_defaults(simple_project: Path):
    result = podc.compile_project(simple_project)
    assert [j.target for j in result.jobs] == ["hello", "other"]
    assert result.profile == "dev"
    hello = jobs_by_name(result)["hello"]
    m = hello.manifest
    assert list(m) == ["apiVersion", "kind", "metadata", "spec"]
    assert m["metadata"]["name"] == "hello" and m["metadata"]["namespace"] == "jobs"
    assert env_of(hello) == {"TZ": "UTC", "ENVIRONMENT": "dev"}
    pod = m["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}}
    c = main_container(hello)
    assert list(c)[:3] == ["name", "image", "command"]
    assert c["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    assert hello.provenance["/metadata/name"].pos.file == str(simple_project / "podc.yaml")


def test_profile_selection_and_unknown_profile(simple_project: Path):
    prod = podc.compile_project(simple_project, profile="prod", targets=["hello"])
    assert env_of(prod.jobs[0])["ENVIRONMENT"] == "prod"
    with pytest.raises(PodcError) as e:
        podc.compile_project(simple_project, profile="prd")
    assert e.value.diagnostics[0].code == "project.unknown-profile"
    assert "prod" in (e.value.diagnostics[0].hint or "")


def test_unknown_target_suggests(simple_project: Path):
    with pytest.raises(PodcError) as e:
        podc.compile_project(simple_project, targets=["helo"])
    assert "hello" in e.value.diagnostics[0].hint


def test_full_layer_order(tmp_path: Path):
    """defaults → layers (extends first) → profile → file → overrides → target profile → extra."""
    root = write_files(tmp_path, {
        "podc.yaml": """
            kind: Project
            layers: {team: team.yaml, env: env.yaml}
            profiles: {p: [env]}
            defaultProfile: p
            targets:
              t:
                layers: [team]
                file: job.yaml
                overrides:
                  env: {O: overrides, P: overrides}
                profiles:
                  p:
                    env: {P: target-profile}
            """,
        "base.yaml": "env: {B: base, T: base, E: base, F: base, O: base, P: base}\n",
        "team.yaml": "extends: [base.yaml]\nenv: {T: team, E: team}\n",
        "env.yaml": "env: {E: env, F: env}\n",
        "job.yaml": "image: busybox\nenv: {F: file}\n",
    })
    result = podc.compile_project(root, extra_layers=[{"env": {"X": "extra", "P": "extra"}}])
    env = env_of(result.jobs[0])
    assert env == {"B": "base", "T": "team", "E": "env", "F": "file", "O": "overrides", "P": "extra", "X": "extra"}
    job = result.jobs[0]
    names = [e["name"] for e in main_container(job)["env"]]
    p = names.index("P")
    history = [layer for layer, _ in job.provenance[f"/spec/template/spec/containers/0/env/{p}/value"].overridden]
    assert history == ["base.yaml", "t.overrides", "t.profiles.p"]


def test_extends_depth_first_each_file_once(tmp_path: Path):
    root = write_files(tmp_path, {
        "podc.yaml": "kind: Project\ntargets:\n  t:\n    layers: [a.yaml, b.yaml]\n",
        "common.yaml": "image: busybox\nenv: {ORDER: common}\nargs: [common]\n",
        "a.yaml": "extends: [common.yaml]\nenv: {A: a}\n",
        "b.yaml": "extends: [common.yaml]\nenv: {B: b}\n",
    })
    job = podc.compile_project(root).jobs[0]
    # common applied once, before a; b's extends of common is skipped (each file once)
    assert [e["name"] for e in main_container(job)["env"]] == ["ORDER", "A", "B"]
    assert job.provenance["/spec/template/spec/containers/0/args/0"].overridden == ()


def test_extends_cycle_names_the_cycle(tmp_path: Path):
    root = write_files(tmp_path, {
        "podc.yaml": "kind: Project\ntargets:\n  t:\n    layers: [a.yaml]\n",
        "a.yaml": "extends: [b.yaml]\nimage: x\n",
        "b.yaml": "extends: [a.yaml]\n",
    })
    with pytest.raises(PodcError) as e:
        podc.compile_project(root)
    cycles = [d for d in e.value.diagnostics if d.code == "layer.extends-cycle"]
    assert cycles and "a.yaml → b.yaml → a.yaml" in cycles[0].message
    assert cycles[0].pos.file == str(root / "b.yaml") and cycles[0].pos.line == 1


def test_errors_of_all_targets_are_reported_together(tmp_path: Path):
    root = write_files(tmp_path, {
        "podc.yaml": "kind: Project\ntargets:\n  a: {layers: [a.yaml]}\n  b: {layers: [b.yaml]}\n  ok: {layers: [ok.yaml]}\n",
        "a.yaml": "image: x\nresources: {requests: {cpu: lots}}\n",
        "b.yaml": "imagee: x\n",
        "ok.yaml": "image: x\n",
    })
    with pytest.raises(PodcError) as e:
        podc.compile_project(root)
    files = {Path(d.pos.file).name for d in e.value.diagnostics}
    assert files == {"a.yaml", "b.yaml"}


def test_layer_files_are_loaded_once_per_run(tmp_path: Path, monkeypatch):
    targets = "".join(f"  t{i}: {{layers: [base.yaml, job{i}.yaml]}}\n" for i in range(5))
    files = {"podc.yaml": "kind: Project\ntargets:\n" + targets, "base.yaml": "env: {A: a}\n"}
    files.update({f"job{i}.yaml": f"image: img{i}\n" for i in range(5)})
    root = write_files(tmp_path, files)
    import podc.source.reader

    loads: list[str] = []
    real = podc.source.reader.load_single

    def counting(path, *a, **kw):
        loads.append(Path(path).name)
        return real(path, *a, **kw)

    monkeypatch.setattr(podc.source.reader, "load_single", counting)
    result = podc.compile_project(root)
    assert len(result.jobs) == 5
    assert loads.count("base.yaml") == 1


def test_name_and_namespace_from_layers_win(tmp_path: Path):
    root = write_files(tmp_path, {
        "podc.yaml": "kind: Project\nnamespace: proj\ntargets:\n  t: {layers: [a.yaml]}\n",
        "a.yaml": "image: x\nname: custom-name\nnamespace: other\n",
    })
    m = podc.compile_project(root).jobs[0].manifest
    assert m["metadata"]["name"] == "custom-name" and m["metadata"]["namespace"] == "other"


def test_compile_layers_with_files_dicts_and_extends(tmp_path: Path):
    write_files(tmp_path, {"base.yaml": "env: {A: a}\n", "job.yaml": "extends: [base.yaml]\nimage: busybox\n"})
    job = podc.compile_layers(["job.yaml", {"env": {"STEP": "s1"}, "labels": {"step": "s1"}}], name="step-1",
                              namespace="ns", base_dir=tmp_path)
    assert job.manifest["metadata"] == {"name": "step-1", "namespace": "ns", "labels": {"step": "s1"}}
    assert env_of(job) == {"A": "a", "STEP": "s1"}
    assert job.provenance["/metadata/labels/step"].layer == "layer-1"


def test_compile_layers_reports_bad_dict_layer():
    with pytest.raises(PodcError) as e:
        podc.compile_layers([{"image": "x", "resources": {"limits": {"memory": "lots"}}}], name="n")
    assert e.value.diagnostics[0].code == "layer.quantity"


def test_minimal_target_passes_pod_security_restricted(tmp_path: Path):
    from podc.check.pss import evaluate_pod

    job = podc.compile_layers([{"image": "busybox:1.36"}], name="minimal")
    template = job.manifest["spec"]["template"]
    assert evaluate_pod(template.get("metadata"), template["spec"], "restricted") == []


def test_init_containers_and_sidecars_get_secure_defaults():
    job = podc.compile_layers([{"image": "app", "initContainers": {"init": {"image": "busybox"}},
                                "sidecars": {"proxy": {"image": "proxy"}}}], name="n")
    from podc.check.pss import evaluate_pod

    pod = job.manifest["spec"]["template"]["spec"]
    for c in pod["initContainers"] + pod["containers"]:
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert evaluate_pod(None, pod, "restricted") == []


def test_explicit_security_settings_are_kept():
    job = podc.compile_layers([{"image": "app", "securityContext": {"allowPrivilegeEscalation": True,
                                                                    "capabilities": {"add": ["NET_BIND_SERVICE"]}}}],
                              name="n")
    sc = main_container(job)["securityContext"]
    assert sc == {"allowPrivilegeEscalation": True, "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}}


@pytest.mark.parametrize("layer, code, where", [
    ({"image": "x", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}, "job.requests-exceed-limits",
     "resources.requests.cpu"),
    ({"image": "x", "raw": {"container": {"volumeMounts": [{"name": "nope", "mountPath": "/x"}]}}},
     "job.unknown-volume", "volumeMounts"),
    ({"name": "Bad_Name", "image": "x"}, None, None),
    ({"image": "x", "labels": {"team": "not valid!"}}, "job.invalid-name", "labels"),
    ({"command": ["x"]}, "job.missing-image", "containers[name=main]"),
])
def test_cross_field_checks(layer, code, where):
    with pytest.raises(PodcError) as e:
        podc.compile_layers([layer], name="n")
    d = e.value.diagnostics[0]
    if code:
        assert d.code == code and where in (d.path or ""), e.value.diagnostics


def test_cross_field_error_is_located(tmp_path: Path):
    root = write_files(tmp_path, {
        "podc.yaml": "kind: Project\ntargets:\n  t: {layers: [a.yaml, b.yaml]}\n",
        "a.yaml": "image: x\nresources:\n  limits:\n    memory: 1Gi\n",
        "b.yaml": "resources:\n  requests:\n    memory: 2Gi\n",
    })
    with pytest.raises(PodcError) as e:
        podc.compile_project(root)
    d = e.value.diagnostics[0]
    assert d.code == "job.requests-exceed-limits"
    assert (Path(d.pos.file).name, d.pos.line, d.pos.col) == ("b.yaml", 3, 13)
    assert Path(d.related[0][0].file).name == "a.yaml" and d.related[0][0].line == 4


def test_public_names_are_lazy_reexports():
    assert podc.compile_project is __import__("podc.api", fromlist=["x"]).compile_project
    assert podc.explain is __import__("podc.render.provenance", fromlist=["x"]).explain
    with pytest.raises(AttributeError):
        podc.no_such_name  # noqa: B018


def test_deleting_a_volume_drops_its_mounts_but_typos_still_fail(tmp_path: Path):
    write_files(tmp_path, {"base.yaml": "image: x\nvolumes:\n  data:\n    emptyDir: {}\n    mountPath: /data\n"})
    job = podc.compile_layers(["base.yaml", {"volumes": {"data": None}}], name="n", base_dir=tmp_path)
    pod = job.manifest["spec"]["template"]["spec"]
    assert "volumes" not in pod and "volumeMounts" not in pod["containers"][0]
    with pytest.raises(PodcError) as e:
        podc.compile_layers(["base.yaml", {"raw": {"container": {"volumeMounts": [{"name": "dta", "mountPath": "/x"}]}}}],
                            name="n", base_dir=tmp_path)
    assert e.value.diagnostics[0].code == "job.unknown-volume" and "'data'" in e.value.diagnostics[0].hint


def test_main_container_name_origin(tmp_path: Path):
    from podc.render import DEFAULTS_FILE

    write_files(tmp_path, {"a.yaml": "image: x\n", "b.yaml": "container: main\nargs: [y]\n",
                           "c.yaml": "container: trainer\nimage: x\n"})
    generated = podc.compile_layers(["a.yaml"], name="n", base_dir=tmp_path)
    origin = generated.provenance["/spec/template/spec/containers/0/name"]
    assert origin.pos.file == str(DEFAULTS_FILE) and origin.layer == "podc:defaults"
    declared = podc.compile_layers(["a.yaml", "b.yaml"], name="n", base_dir=tmp_path)
    origin = declared.provenance["/spec/template/spec/containers/0/name"]
    assert (Path(origin.pos.file).name, origin.pos.line, origin.pos.col) == ("b.yaml", 1, 12)
    named = podc.compile_layers(["c.yaml"], name="n", base_dir=tmp_path)
    assert main_container(named)["name"] == "trainer"
    assert Path(named.provenance["/spec/template/spec/containers/0/name"].pos.file).name == "c.yaml"
