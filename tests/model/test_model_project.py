"""Project files (podc.yaml): shape, names used, did-you-mean."""

PROJECT = """\
apiVersion: podc/v1
kind: Project
kubernetesVersion: "1.33"
output: out
namespace: ml
layers:
  base: layers/base.yaml
  gpu: layers/gpu.yaml
  prod: layers/prod.yaml
profiles:
  dev: [base]
  prod: [base, prod, extra/tuning.yaml]
defaultProfile: dev
targets:
  train:
    layers: [base, gpu]
    file: jobs/train.yaml
    overrides: {backoffLimit: 2}
    profiles:
      prod: {resources: {limits: {memory: 8Gi}}}
policies:
  pss: restricted:v1.33
  bestPractices: {disable: [BP001], requiredLabels: [team]}
  custom: [policies/team.yaml]
  exceptions: [{policy: pss, rule: x, reason: ok}]
  failOn: warning
"""


def test_valid_project(project):
    spec, diags = project(PROJECT)
    assert diags == []
    assert spec.kubernetesVersion == "1.33"
    assert list(spec.targets) == ["train"]
    assert spec.targets["train"].overrides.backoffLimit == 2
    assert spec.policies.bestPractices.requiredLabels == ["team"]


def test_defaults(project):
    spec, diags = project("kind: Project\n")
    assert diags == [] and spec.output == "build"


def test_best_practices_may_be_a_boolean(project):
    spec, diags = project("policies: {bestPractices: false}\n")
    assert diags == [] and spec.policies.bestPractices is False


def test_unknown_key_with_suggestion(project):
    _, diags = project("kind: Project\ntargest: {}\npolicies: {failon: error}\n")
    assert [(d.code, d.pos.line, d.hint) for d in diags] == [
        ("project.unknown-field", 2, "did you mean `targets`?"),
        ("project.unknown-field", 3, "did you mean `failOn`?"),
    ]


def test_kubernetes_version_as_number_asks_for_quotes(project):
    _, diags = project("kubernetesVersion: 1.30\n")
    (d,) = diags
    assert d.code == "project.type" and "quote" in d.hint


def test_kubernetes_version_shape_and_pss_level(project):
    _, diags = project('kubernetesVersion: "v1.33"\npolicies: {pss: strict}\n')
    assert [d.pos.line for d in diags] == [1, 2]
    assert '"1.33"' in diags[0].message and "restricted" in diags[1].message


def test_unknown_names_used_by_profiles_and_targets(project):
    _, diags = project("""\
        layers: {base: b.yaml, gpu: g.yaml}
        profiles: {dev: [base, gpuu]}
        defaultProfile: deev
        targets:
          t:
            layers: [base, ./local.yaml, nope]
            profiles: {prod: {}}
        """)
    got = [(d.code, d.pos.line, d.hint) for d in diags]
    assert got[0] == ("project.unknown-layer", 2, "did you mean `gpu`?")
    assert got[1] == ("project.unknown-profile", 3, "did you mean `dev`?")
    assert got[2][:2] == ("project.unknown-layer", 6)
    assert got[3][:2] == ("project.unknown-profile", 7)
    assert len(got) == 4


def test_inline_layers_are_validated_as_layers(project):
    _, diags = project("""\
        targets:
          t:
            overrides: {imagee: x}
            profiles:
              dev: {env: !replace {A: 1}, command: [!delete a]}
        """)
    assert [(d.code, d.pos.line) for d in diags] == [("project.unknown-field", 3), ("layer.directive", 5)]
    assert diags[0].hint == "did you mean `image`?"


def test_a_target_may_be_empty(project):
    spec, diags = project("kind: Project\ntargets:\n  smoke:\n")
    assert diags == [] and spec.targets == {"smoke": None}
