import pytest

from podc.kube.images import parse_image_reference
from podc.kube.names import image_reference

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "text, registry, repo, tag, digest",
    [
        ("nginx", None, "nginx", None, None),
        ("nginx:1.27", None, "nginx", "1.27", None),
        ("library/nginx:latest", None, "library/nginx", "latest", None),
        ("ghcr.io/org/app:v1.2.3", "ghcr.io", "org/app", "v1.2.3", None),
        ("localhost:5000/app", "localhost:5000", "app", None, None),
        ("localhost/app:dev", "localhost", "app", "dev", None),
        ("registry.example.com:443/a/b/c@" + DIGEST, "registry.example.com:443", "a/b/c", None, DIGEST),
        ("app:1@" + DIGEST, None, "app", "1", DIGEST),
        ("my_org/my__app-x", None, "my_org/my__app-x", None, None),
        ("[::1]:5000/app:1", "[::1]:5000", "app", "1", None),
    ],
)
def test_parse(text, registry, repo, tag, digest):
    ref = parse_image_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repo, tag, digest)
    assert str(ref) == text
    assert image_reference(text) == []


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "non-empty"),
        (" nginx", "whitespace"),
        ("Nginx", "lowercase"),
        ("org/App", "lowercase"),
        ("app:", "invalid tag"),
        ("app:-x", "invalid tag"),
        ("app@sha256:abc", "invalid digest"),
        ("a//b", "invalid repository path component"),
        ("app:" + "x" * 129, "invalid tag"),
        ("-bad.io/app", "invalid registry"),
    ],
)
def test_invalid(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_image_reference(text)
    assert image_reference(text)


def test_latest_and_pinning():
    assert parse_image_reference("nginx").uses_latest
    assert parse_image_reference("nginx:latest").uses_latest
    assert not parse_image_reference("nginx:1.27").uses_latest
    pinned = parse_image_reference("nginx:latest@" + DIGEST)
    assert pinned.is_pinned and not pinned.uses_latest
    assert parse_image_reference("nginx").effective_registry == "docker.io"
