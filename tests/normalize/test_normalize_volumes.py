"""volumes, secrets, init containers, sidecars and raw fragments."""

import pytest

from podc.kube.names import dns1123_label
from podc.tree import to_plain

POD = ("spec", "template", "spec")
MAIN = POD + ("containers", 0)


def get(node, *path):
    for seg in path:
        node = node.items[seg]
    return node


def pos(node):
    return (node.origin.pos.line, node.origin.pos.col)


def test_volume_sources_and_mounts(job):
    tree = job("""\
        volumes:
          scratch: {emptyDir: {sizeLimit: 1Gi}, mountPath: /scratch}
          cfg: {configMap: {name: cfg, items: [{key: a, path: a}]}, mountPath: /cfg, readOnly: true, subPath: a}
          data: {persistentVolumeClaim: {claimName: d}, mounts: [{mountPath: /d1}, {mountPath: /d2, readOnly: true}]}
          empty: {emptyDir: null, mountPath: /e}
          share: {nfs: {server: s, path: /x}}
        """)
    pod = to_plain(get(tree, *POD))
    assert pod["volumes"] == [
        {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": "cfg", "configMap": {"name": "cfg", "items": [{"key": "a", "path": "a"}]}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "d"}},
        {"name": "empty", "emptyDir": {}},
        {"name": "share", "nfs": {"server": "s", "path": "/x"}},
    ]
    assert pod["containers"][0]["volumeMounts"] == [
        {"name": "scratch", "mountPath": "/scratch"},
        {"name": "cfg", "mountPath": "/cfg", "subPath": "a", "readOnly": True},
        {"name": "data", "mountPath": "/d1"},
        {"name": "data", "mountPath": "/d2", "readOnly": True},
        {"name": "empty", "mountPath": "/e"},
    ]
    mounts = get(tree, *MAIN, "volumeMounts")
    assert pos(get(mounts, 2, "name")) == (4, 3)  # generated name -> the volume's key
    assert pos(get(mounts, 3, "mountPath")) == (4, 88)
    assert pos(get(tree, *POD, "volumes", 0, "name")) == (2, 3)


def test_volume_delete_and_replace(job):
    tree = job("""\
        volumes:
          old: null
          new: !replace {hostPath: {path: /h}}
        """)
    volumes = get(tree, *POD, "volumes")
    assert to_plain(volumes) == [{"name": "old"}, {"name": "new", "hostPath": {"path": "/h"}}]
    assert [v.directive for v in volumes.items] == ["delete", "replace"]
    assert "containers" not in get(tree, *POD).items


def test_volumes_replace_whole_list(job):
    assert get(job("volumes: !replace {a: {emptyDir: {}}}\n"), *POD, "volumes").directive == "replace"


def test_mount_into_init_container_and_sidecar(job):
    tree = job("""\
        volumes:
          work:
            emptyDir: {}
            mountPath: /work
            mounts: [{mountPath: /in, container: fetch}, {mountPath: /p, container: proxy, readOnly: true}]
        sidecars:
          proxy: {image: envoy}
        initContainers:
          fetch: {image: busybox, volumeMounts: [{name: cache, mountPath: /cache}]}
        """)
    pod = to_plain(get(tree, *POD))
    assert pod["initContainers"] == [
        {"name": "fetch", "image": "busybox",
         "volumeMounts": [{"name": "cache", "mountPath": "/cache"}, {"name": "work", "mountPath": "/in"}]},
        {"name": "proxy", "restartPolicy": "Always", "image": "envoy",
         "volumeMounts": [{"name": "work", "mountPath": "/p", "readOnly": True}]},
    ]
    assert pod["containers"][0]["volumeMounts"] == [{"name": "work", "mountPath": "/work"}]


def test_mount_into_unknown_container_is_an_error(norm):
    patches, diags = norm("""\
        initContainers: {fetch: {image: x}}
        volumes:
          w: {emptyDir: {}, mounts: [{mountPath: /in, container: fetc}]}
        """)
    assert patches == []
    (d,) = diags
    assert d.code == "layer.unknown-container" and (d.pos.line, d.pos.col) == (3, 58)
    assert d.hint.startswith("did you mean `fetch`?")


def test_secret_mount_env_and_env_from(job):
    tree = job("""\
        secrets:
          db-creds:
            mountPath: /etc/db
            items: [{key: password, path: pw}]
            defaultMode: 256
            optional: true
            env: {DB_PASSWORD: password, DB_USER: user}
            envFrom: {prefix: DB_}
          api: {envFrom: true}
        """)
    pod = to_plain(get(tree, *POD))
    assert pod["volumes"] == [{"name": "secret-db-creds", "secret": {
        "secretName": "db-creds", "items": [{"key": "password", "path": "pw"}], "defaultMode": 256, "optional": True}}]
    main = pod["containers"][0]
    assert main["volumeMounts"] == [{"name": "secret-db-creds", "mountPath": "/etc/db", "readOnly": True}]
    assert main["env"] == [
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-creds", "key": "password", "optional": True}}},
        {"name": "DB_USER", "valueFrom": {"secretKeyRef": {"name": "db-creds", "key": "user", "optional": True}}},
    ]
    assert main["envFrom"] == [{"prefix": "DB_", "secretRef": {"name": "db-creds", "optional": True}},
                               {"secretRef": {"name": "api"}}]
    env = get(tree, *MAIN, "env")
    assert pos(get(env, 0, "name")) == (7, 11)
    assert pos(get(env, 0, "valueFrom", "secretKeyRef", "name")) == (2, 3)
    assert pos(get(env, 0, "valueFrom", "secretKeyRef", "key")) == (7, 24)
    assert pos(get(tree, *MAIN, "volumeMounts", 0, "readOnly")) == (3, 16)


def test_secret_names_with_dots_give_valid_volume_names(job):
    tree = job("secrets: {tls.example.com: {mountPath: /tls}}\n")
    name = get(tree, *POD, "volumes", 0, "name").value
    assert dns1123_label(name) == [] and name.startswith("secret-tls")
    assert get(tree, *MAIN, "volumeMounts", 0, "name").value == name
    assert get(tree, *POD, "volumes", 0, "secret", "secretName").value == "tls.example.com"


def test_secret_delete_and_env_from_false(job):
    tree = job("secrets: {old: null, s: {envFrom: false}}\n")
    volumes = get(tree, *POD, "volumes")
    assert to_plain(volumes) == [{"name": "secret-old"}] and volumes.items[0].directive == "delete"
    env_from = get(tree, *MAIN, "envFrom")
    assert to_plain(env_from) == [{"secretRef": {"name": "s"}}] and env_from.items[0].directive == "delete"


def test_secret_values_never_appear(job):
    """A layer names Secrets and keys only; nothing but those names reaches the tree."""
    tree = job("secrets: {db: {env: {PASSWORD: password-key}}}\n")
    from podc.tree import iter_leaves

    assert sorted(str(leaf.value) for _, leaf in iter_leaves(tree)) == ["PASSWORD", "db", "main", "password-key"]


def test_init_containers_then_sidecars_in_source_order(job):
    tree = job("""\
        sidecars:
          proxy: {image: envoy, readinessProbe: {tcpSocket: {port: 8080}}}
        initContainers:
          a: {image: x, args: [1], env: {N: 1}, resources: {limits: {cpu: 1}}}
          b: {image: y}
          gone: null
        """)
    inits = get(tree, *POD, "initContainers")
    assert to_plain(inits) == [
        {"name": "a", "image": "x", "args": ["1"], "env": [{"name": "N", "value": "1"}],
         "resources": {"limits": {"cpu": "1"}}},
        {"name": "b", "image": "y"},
        {"name": "gone"},
        {"name": "proxy", "restartPolicy": "Always", "image": "envoy",
         "readinessProbe": {"tcpSocket": {"port": 8080}}},
    ]
    assert inits.items[2].directive == "delete"
    assert pos(get(inits, 3, "restartPolicy")) == (2, 3)
    assert pos(get(inits, 0, "name")) == (4, 3)


def test_raw_fragments_in_source_order_as_smp(norm):
    patches, diags = norm("""\
        container: app
        raw:
          container: {stdin: true}
          job: {metadata: {labels: {x: y}}}
          podSpec: {hostNetwork: false}
          jobSpec: {manualSelector: false}
        """)
    assert diags == []
    assert [m for _, m in patches] == ["podc", "smp", "smp", "smp", "smp"]
    assert [to_plain(t) for t, _ in patches[1:]] == [
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "stdin": True}]}}}},
        {"metadata": {"labels": {"x": "y"}}},
        {"spec": {"template": {"spec": {"hostNetwork": False}}}},
        {"spec": {"manualSelector": False}},
    ]
    assert to_plain(patches[0][0]) == {}
    stdin = get(patches[1][0], *MAIN, "stdin")
    assert pos(stdin) == (3, 22)
    assert pos(get(patches[1][0], *MAIN, "name")) == (1, 12)


def test_invalid_layer_gives_no_patches(norm):
    patches, diags = norm("image: [x]\n")
    assert patches == [] and diags[0].code == "layer.type"


def test_python_layer():
    from podc.errors import PodcError
    from podc.normalize import normalize_python_layer

    (tree, mode), = normalize_python_layer({"image": "x", "env": {"N": 1}}, "dagster:step")
    assert mode == "podc"
    value = get(tree, *MAIN, "env", 0, "value")
    assert value.value == "1" and value.origin.layer == "dagster:step"
    with pytest.raises(PodcError) as err:
        normalize_python_layer({"imagee": "x"}, "dagster:step")
    assert err.value.diagnostics[0].hint == "did you mean `image`?"


def test_policy_exceptions():
    from podc.normalize import policy_exceptions
    from podc.source import load_text

    node = load_text("exceptions:\n  - {policy: pss, rule: r, reason: why, targets: [a], expires: 2027-01-01}\n",
                     "l.yaml", layer="L")[0]
    (e,) = policy_exceptions(node)
    assert (e.policy, e.rule, e.reason, e.targets, e.expires, e.layer) == ("pss", "r", "why", ("a",), "2027-01-01", "L")
    assert (e.pos.line, e.pos.col) == (2, 5)


def test_deleted_volume_names_for_the_renderer(norm):
    from podc.normalize import deleted_volume_names

    patches, _ = norm("volumes: {old: null, keep: {emptyDir: {}}}\nsecrets: {db: null}\n")
    assert deleted_volume_names(patches[0][0]) == {"old", "secret-db"}
    patches, _ = norm("image: x\n")
    assert deleted_volume_names(patches[0][0]) == set()
