"""Strategic-merge directives mean what they mean in SMP (issue 8 §2), and merge warnings reach
CompileResult.diagnostics as located warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from podc.errors import Pos
from test_merge import fold as _fold
from test_merge import layer, pod
from test_merge import pod_spec as spec_of


def fold(*layers, mode="smp"):
    return _fold(*layers, mode=mode)


BASE = pod({
    "nodeSelector": {"x": "1"},
    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}},
    "containers": [{"name": "main", "image": "i", "securityContext": {"runAsUser": 1},
                    "resources": {"limits": {"cpu": "1"}}}],
    "tolerations": [{"key": "spot", "operator": "Exists", "effect": "NoSchedule"}, {"key": "gpu", "operator": "Exists"}],
    "topologySpreadConstraints": [
        {"topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "maxSkew": 1},
        {"topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway", "maxSkew": 2},
        {"topologyKey": "host", "whenUnsatisfiable": "DoNotSchedule", "maxSkew": 1}],
})


@pytest.mark.parametrize("mode", ["smp", "podc"])
def test_patch_delete_on_a_mapping_deletes_it(mode):
    patch = pod({"nodeSelector": {"$patch": "delete"}, "affinity": {"$patch": "delete"},
                 "containers": [{"name": "main", "securityContext": {"$patch": "delete"},
                                 "resources": {"$patch": "delete"}}]})
    out, diags = fold(layer("a", BASE), layer("b", patch), mode=mode)
    spec = spec_of(out)
    assert "nodeSelector" not in spec and "affinity" not in spec
    assert spec["containers"] == [{"name": "main", "image": "i"}]
    assert not diags.errors


def test_deleting_an_absent_mapping_leaves_nothing_behind():
    out, _ = fold(layer("a", pod({"containers": [{"name": "main"}]})), layer("b", pod({"affinity": {"$patch": "delete"}})))
    assert "affinity" not in spec_of(out)


def test_a_delete_item_in_an_unkeyed_list_is_reported_never_added():
    out, diags = fold(layer("a", BASE), layer("b", pod({"tolerations": [{"key": "spot", "$patch": "delete"}]})))
    (d,) = diags.errors
    assert d.code == "merge.delete-unkeyed" and "tolerations" in d.message and d.pos.file == "b.yaml"
    assert {} not in spec_of(out).get("tolerations", [])


def test_podc_tolerations_delete_by_the_fields_given():
    out, diags = fold(layer("a", BASE), layer("b", pod({"tolerations": [{"key": "spot", "$patch": "delete"}]})),
                      mode="podc")
    assert spec_of(out)["tolerations"] == [{"key": "gpu", "operator": "Exists"}]
    assert not diags


@pytest.mark.parametrize("mode", ["smp", "podc"])
def test_topology_spread_delete_by_topology_key_alone(mode):
    out, diags = fold(layer("a", BASE), layer("b", pod({"topologySpreadConstraints": [
        {"topologyKey": "zone", "$patch": "delete"}]})), mode=mode)
    assert [c["topologyKey"] for c in spec_of(out)["topologySpreadConstraints"]] == ["host"]
    assert not diags


def test_delete_with_nothing_to_delete_is_a_located_warning():
    _, diags = fold(layer("a", BASE), layer("b", pod({"topologySpreadConstraints": [
        {"topologyKey": "rack", "$patch": "delete"}]})))
    (w,) = [d for d in diags.items if d.severity == "warning"]
    assert w.code == "merge.delete-missing" and w.severity == "warning" and w.pos == Pos("b.yaml", 1, 1)


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "p"
    for name, text in {"podc.yaml": "kind: Project\nnamespace: batch\ntargets:\n  t:\n    layers: [base.yaml]\n"
                       "    file: job.yaml\n", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_merge_warnings_are_warning_diagnostics_of_the_compile(tmp_path):
    from podc.pipeline import compile_project

    root = _project(tmp_path, {"base.yaml": "image: busybox:1.36\n",
                               "job.yaml": "env:\n  GONE: null\n"})
    result = compile_project(root)
    warnings = [d for d in result.diagnostics if d.code == "merge.delete-missing"]
    assert warnings and warnings[0].severity == "warning"
    assert warnings[0].pos.file.endswith("job.yaml") and warnings[0].pos.line == 2


def test_a_mount_added_after_its_volume_was_deleted_is_an_unknown_volume(tmp_path):
    from podc.errors import PodcError
    from podc.pipeline import compile_project

    root = _project(tmp_path, {"base.yaml": "image: busybox:1.36\nvolumes:\n  data: {emptyDir: {}, mountPath: /data}\n",
                               "mid.yaml": "volumes:\n  data: null\n",
                               "job.yaml": "extends: mid.yaml\nraw:\n  container:\n"
                                           "    volumeMounts: [{name: data, mountPath: /x}]\n"})
    with pytest.raises(PodcError) as e:
        compile_project(root)
    (d,) = e.value.diagnostics
    assert d.code == "job.unknown-volume" and d.pos.file.endswith("job.yaml") and d.pos.line == 4


def test_volumes_null_drops_the_mounts_podc_made_for_them(tmp_path):
    from podc.pipeline import compile_project

    root = _project(tmp_path, {"base.yaml": "image: busybox:1.36\nvolumes:\n  data: {emptyDir: {}, mountPath: /data}\n",
                               "job.yaml": "volumes: null\n"})
    (job,) = compile_project(root).jobs
    spec = job.manifest["spec"]["template"]["spec"]
    assert "volumes" not in spec and "volumeMounts" not in spec["containers"][0]


def test_friendly_delete_items_need_only_their_key_fields(tmp_path):
    from podc.pipeline import compile_project

    root = _project(tmp_path, {
        "base.yaml": "image: busybox:1.36\ntopologySpreadConstraints:\n"
                     "  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}\n"
                     "  - {maxSkew: 1, topologyKey: host, whenUnsatisfiable: DoNotSchedule}\n"
                     "tolerations: [{key: spot, operator: Exists, effect: NoSchedule}, {key: gpu, operator: Exists}]\n",
        "job.yaml": "topologySpreadConstraints: [{topologyKey: zone, $patch: delete}]\n"
                    "tolerations: [{key: spot, $patch: delete}]\n"})
    result = compile_project(root)
    spec = result.jobs[0].manifest["spec"]["template"]["spec"]
    assert [c["topologyKey"] for c in spec["topologySpreadConstraints"]] == ["host"]
    assert spec["tolerations"] == [{"key": "gpu", "operator": "Exists"}]
    assert not [d for d in result.diagnostics if d.code.startswith("merge.")]
