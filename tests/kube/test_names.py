"""Name rules mirror k8s.io/apimachinery/pkg/util/validation."""

import pytest
from hypothesis import given, strategies as st

from podc.kube import names


@pytest.mark.parametrize("value", ["a", "my-name", "123-abc", "a" * 63, "0"])
def test_dns1123_label_valid(value):
    assert names.dns1123_label(value) == []
    assert names.container_name(value) == []


@pytest.mark.parametrize("value", ["", "A", "-a", "a-", "a_b", "a" * 64, "ä"])
def test_dns1123_label_invalid(value):
    errs = names.dns1123_label(value)
    assert errs
    if len(value) > 63:
        assert "must be no more than 63 characters" in errs


def test_dns1123_label_dots_get_their_own_message():
    assert names.dns1123_label("a.b") == ["must not contain dots"]


def test_dns1123_label_message_shows_regex():
    (msg,) = names.dns1123_label("Bad")
    assert msg.startswith("a lowercase RFC 1123 label")
    assert "'[a-z0-9]([-a-z0-9]*[a-z0-9])?'" in msg


@pytest.mark.parametrize("value", ["example.com", "a", "a.b.c", "a" * 63 + ".b"])
def test_subdomain_valid(value):
    assert names.dns1123_subdomain(value) == []


@pytest.mark.parametrize("value", ["", "a..b", ".a", "a.", "A.com", "a_b.com"])
def test_subdomain_invalid(value):
    assert names.dns1123_subdomain(value)


def test_subdomain_length():
    ok = ".".join(["a" * 63] * 4)[:253].rstrip(".")
    assert names.dns1123_subdomain(ok) == []
    assert "must be no more than 253 characters" in names.dns1123_subdomain(ok + "a.b")


@pytest.mark.parametrize(
    "value",
    ["app", "MyName", "my.name", "123-abc", "app.kubernetes.io/name", "example.com/My_Key", "a" * 63],
)
def test_qualified_name_valid(value):
    assert names.qualified_name(value) == []
    assert names.label_key(value) == []


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("", "name part must be non-empty"),
        ("/a", "prefix part must be non-empty"),
        ("a/", "name part must be non-empty"),
        ("Example.com/a", "prefix part a lowercase RFC 1123 subdomain"),
        ("a/b/c", "a qualified name must consist"),
        ("-a", "name part must consist"),
        ("a" * 64, "name part must be no more than 63 characters"),
        ("a b", "name part must consist"),
    ],
)
def test_qualified_name_invalid(value, fragment):
    errs = names.qualified_name(value)
    assert any(fragment in e for e in errs), errs


@pytest.mark.parametrize("value", ["", "v1", "my_value", "12345", "A.b-C_d", "x" * 63])
def test_label_value_valid(value):
    assert names.label_value(value) == []


@pytest.mark.parametrize("value", ["-a", "a-", "a b", "a/b", "x" * 64, "é"])
def test_label_value_invalid(value):
    assert names.label_value(value)


def test_annotations_size():
    assert names.annotations_size({"a": "b" * 100}) == []
    assert names.annotations_size(256 * 1024) == []
    big = {"k": "v" * (256 * 1024)}
    (err,) = names.annotations_size(big)
    assert "262144" in err and "got 262145" in err


@pytest.mark.parametrize("value", ["FOO", "my.env-name", "_x", "a1"])
def test_env_var_name_valid_everywhere(value):
    assert names.env_var_name(value, "1.29") == []
    assert names.env_var_name(value) == []


@pytest.mark.parametrize("value", ["1FOO", "FOO BAR", "a:b", "$X"])
def test_env_var_name_relaxed_only_in_new_versions(value):
    assert names.env_var_name(value, "1.29")
    assert names.env_var_name(value, "1.31")
    assert names.env_var_name(value, "1.34") == []
    assert names.env_var_name(value, (1, 37)) == []
    assert names.env_var_name(value) == []


@pytest.mark.parametrize("value", ["", "A=B", "tab\there", "ünï"])
def test_env_var_name_invalid_everywhere(value):
    assert names.env_var_name(value, "1.29")
    assert names.env_var_name(value, "1.35")


def test_env_var_name_dot_prefixes_old_rule():
    assert names.env_var_name("..x", "1.30") == ["must not start with '..'"]
    assert "must not be '.'" in names.env_var_name(".", "1.30")


@pytest.mark.parametrize("value, ok", [(1, True), (65535, True), (0, False), (65536, False), ("80", False), (True, False)])
def test_port_number(value, ok):
    assert (names.port_number(value) == []) is ok


@pytest.mark.parametrize("value, ok", [("http", True), ("metrics-1", True), ("80", False), ("a--b", False),
                                       ("-http", False), ("HTTP", False), ("a" * 16, False)])
def test_port_name(value, ok):
    assert (names.port_name(value) == []) is ok


label_like = st.text(max_size=120)


@given(label_like)
def test_sanitize_label_value_is_valid_and_stable(value):
    out = names.sanitize_label_value(value)
    assert names.label_value(out) == []
    assert out == names.sanitize_label_value(value)
    if names.label_value(value) == []:
        assert out == value


@given(label_like, st.integers(min_value=1, max_value=63))
def test_sanitize_dns1123_label_is_valid_and_bounded(value, max_len):
    out = names.sanitize_dns1123_label(value, max_len)
    assert names.dns1123_label(out) == []
    assert 1 <= len(out) <= max_len
    assert out == names.sanitize_dns1123_label(value, max_len)


def test_sanitize_keeps_readable_prefix_and_separates_collisions():
    a = names.sanitize_dns1123_label("Train_Model")
    b = names.sanitize_dns1123_label("train.model")
    assert a.startswith("train-model-") and b.startswith("train-model-")
    assert a != b
    assert names.sanitize_dns1123_label("ok-name") == "ok-name"
    long = names.sanitize_label_value("step." + "x" * 100)
    assert len(long) == 63 and long.startswith("step.xxx")
    assert names.sanitize_dns1123_label("a" * 60, max_len=52).startswith("a" * 43 + "-")
