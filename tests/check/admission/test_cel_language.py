"""podc's CEL: the language and the Kubernetes CEL environment (libraries podc adds because no
Python CEL package has them), checked against the behaviour cel-go and the Kubernetes library
documentation specify."""

from __future__ import annotations

import pytest

from podc.check.cel import CelError, CelSyntaxError, CostExceeded, compile_program

OBJ = {"spec": {"containers": [{"name": "a", "image": "x:1", "env": [{"name": "A", "value": "1"}]},
                               {"name": "b", "image": "y:latest"}],
                "replicas": 3, "nothing": None}, "metadata": {"labels": {"team": "data"}}}


def run(expr: str, **variables):
    value, _ = compile_program(expr).run({"object": OBJ, **variables})
    return value


@pytest.mark.parametrize("expr, expected", [
    # macros with iteration variables, nested
    ("object.spec.containers.all(c, c.name.size() == 1)", True),
    ("object.spec.containers.exists(c, c.image.endsWith(':latest'))", True),
    ("object.spec.containers.exists_one(c, has(c.env))", True),
    ("object.spec.containers.map(c, c.name)", ["a", "b"]),
    ("object.spec.containers.map(c, has(c.env), c.env.size())", [1]),
    ("object.spec.containers.filter(c, c.name != 'a').map(c, c.image)", ["y:latest"]),
    ("object.spec.containers.all(c, !has(c.env) || c.env.all(e, e.value.size() > 0))", True),
    ("object.metadata.labels.all(k, k.size() > 1)", True),
    ("object.metadata.labels.exists(k, v, v == 'data')", True),
    ("[1, 2, 3].transformList(i, v, i * v)", [0, 2, 6]),
    ("{'a': 1}.transformMapEntry(k, v, {k + k: v})", {"aa": 1}),
    # optionals
    ("object.?spec.?missing.orValue('none')", "none"),
    ("object.spec.?replicas.orValue(1)", 3),
    ("object.spec.?nothing.hasValue()", False),
    ("object.metadata.labels[?'team'].orValue('')", "data"),
    ("optional.ofNonZeroValue('').hasValue()", False),
    ("object.spec.?missing.or(optional.of(2)).value()", 2),
    # logic absorbs errors when the other side decides
    ("object.spec.missing == 1 || true", True),
    ("false && object.spec.missing == 1", False),
    ("object.spec.containers.exists(c, c.env[0].name == 'A')", True),   # b has no env: error absorbed
    # numbers
    ("1 == 1.0 && 2u == 2 && 3 < 3.5 && 1 != 'a'", True),
    ("7 / -2 == -3 && 7 % -2 == 1 && -7 % 2 == -1", True),
    ("double(1) / 0.0 > 1e308", True),
    ("type(1u) == uint && type(1.0) == double && type(null) == null_type", True),
    ("int('-42') + int(2.9)", -40),
    ("string(1.5) + string(10) + string(true) + string(b'x')", "1.510truex"),
    # strings extension
    ("'Hello'.lowerAscii() + 'x'.upperAscii()", "helloX"),
    ("'a,b,c'.split(',', 2)", ["a", "b,c"]),
    ("['a', 'b'].join('-')", "a-b"),
    ("'  x '.trim() + 'abc'.substring(1) + 'abc'.charAt(2)", "xbcc"),
    ("'aXbX'.replace('X', '_', 1) + string('abcb'.lastIndexOf('b')) + string('abc'.indexOf('c'))", "a_bX32"),
    ("'%s=%d (%.2f)'.format(['x', 3, 1.5])", "x=3 (1.50)"),
    ("strings.quote('a\"b')", '"a\\"b"'),
    # regex (RE2)
    ("'registry.corp/team/etl:1'.matches('^registry\\\\.corp/')", True),
    ("'abc123def45'.find('[0-9]+')", "123"),
    ("'abc123def45'.findAll('[0-9]+')", ["123", "45"]),
    ("'a1b2c3'.findAll('[0-9]', 2)", ["1", "2"]),
    # Kubernetes lists
    ("[1, 2, 2, 3].isSorted() && ![2, 1].isSorted()", True),
    ("[1, 3].sum()", 4),
    ("[3, 1, 2].min() + [3, 1, 2].max()", 4),
    ("[1, 2, 2, 3].indexOf(2) + [1, 2, 2, 3].lastIndexOf(2)", 3),
    ("[duration('1m'), duration('1s')].sum() == duration('61s')", True),
    # quantities (the library's documented examples)
    ("quantity('200M').compareTo(quantity('0.2G'))", 0),
    ("quantity('50M').compareTo(quantity('50Mi'))", -1),
    ("quantity('150Mi').isGreaterThan(quantity('100Mi'))", True),
    ("quantity('50k').add(20).sub(quantity('100k')).sub(-50000) == quantity('20')", True),
    ("quantity('50k').asInteger() == 50000 && quantity('50k').sub(20000).asApproximateFloat() == 30000.0", True),
    ("isQuantity('1.3Gi') && !isQuantity('200K') && !isQuantity('Three')", True),
    ("quantity('9999999999999999999999999999999999999G').isInteger()", False),
    ("quantity('-1').sign() + quantity('0').sign()", -1),
    # URLs (the library's documented examples)
    ("url('https://example.com:80/').getHost()", "example.com:80"),
    ("url('https://[::1]:80/').getHostname()", "::1"),
    ("url('https://example.com/path with spaces/').getEscapedPath()", "/path%20with%20spaces/"),
    ("url('https://example.com/path?k1=a&k2=b&k2=c').getQuery()", {"k1": ["a"], "k2": ["b", "c"]}),
    ("url('/path').getScheme() == '' && isURL('/absolute-path') && !isURL('../relative-path')", True),
    ("isURL('https://a:b:c/')", False),
    # ip / cidr / format / semver / sets
    ("ip('192.168.0.1').family() == 4 && ip('::1').isLoopback() && !isIP('1.2.3')", True),
    ("cidr('10.0.0.0/8').containsIP('10.1.2.3') && cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16')", True),
    ("string(cidr('192.168.1.7/24').masked())", "192.168.1.0/24"),
    ("format.dns1123Label().validate('ok-name').hasValue()", False),
    ("format.named('dns1123Subdomain').value().validate('Bad_Name').hasValue()", True),
    ("!format.named('nope').hasValue()", True),
    ("semver('1.2.3').isLessThan(semver('1.10.0')) && semver('v1.2', true).major() == 1", True),
    ("sets.contains([1, 2, 3], [3, 1]) && sets.equivalent([1, 1], [1]) && !sets.intersects([1], [2])", True),
    # durations and timestamps
    ("duration('1h30m').getMinutes()", 90),
    ("timestamp('2024-03-01T10:00:00Z') + duration('1h') == timestamp('2024-03-01T11:00:00Z')", True),
    ("timestamp('2024-03-01T10:00:00+02:00').getHours()", 8),
])
def test_expressions(expr, expected):
    assert run(expr) == expected


@pytest.mark.parametrize("expr, needle", [
    ("object.spec.missing", "no such key: missing"),
    ("object.spec.nothing", "no such key: nothing"),
    ("1 / 0", "division by zero"),
    ("9223372036854775807 + 1", "overflow"),
    ("object.spec.containers[5]", "index out of bounds"),
    ("'a' < 1", "no such overload"),
    ("1 + 1.0", "no such overload"),
    ("[].min()", "min called on empty list"),
    ("quantity('200K')", "quantities must match"),
    ("quantity('9999999999999999999999999999999999999G').asInteger()", "cannot convert value to integer"),
    ("url('../relative')", "URL parse error"),
    ("optional.none().value()", "optional.none() dereference"),
    ("{'a': 1, 'a': 2}", "repeated key"),
    ("object.spec.containers.exists_one(c, c.env.size() > 0)", "no such key"),  # exists_one is strict
])
def test_evaluation_errors(expr, needle):
    with pytest.raises(CelError) as err:
        run(expr)
    assert needle in str(err.value)


@pytest.mark.parametrize("expr, needle", [
    ("object.spec.", "expected a field name"),
    ("1 +", "expected an operand"),
    ("'unterminated", "not terminated"),
    ("object.all(1, true)", "must be a variable name"),
    ("has(object)", "has() takes one field selection"),
    ("'x'.nosuch()", "undeclared reference to function 'nosuch'"),
    ("startsWith('a', 'b')", "called as a method"),
    ("size()", "takes 1 argument"),
    ("'x'.matches('[')", "invalid regular expression"),
    ("duration('forever')", "invalid duration"),
    ("9223372036854775808", "out of range"),
    ("Msg{c: 1}", "message construction"),
    ("while", "reserved word"),
])
def test_compile_errors(expr, needle):
    with pytest.raises(CelSyntaxError) as err:
        compile_program(expr)
    assert needle in err.value.message


def test_free_variables_exclude_comprehension_variables():
    p = compile_program("object.spec.containers.all(c, c.env.exists(e, e.name == params.x)) && int(1) == 1")
    assert p.variables == {"object", "params"}


def test_the_cost_meter_stops_a_runaway_evaluation():
    lists = "[0,1,2,3,4,5,6,7,8,9]"
    expr = "".join(f"{lists}.all({v}, " for v in "abcdef") + "a >= 0" + ")" * 6
    program = compile_program(expr)
    with pytest.raises(CostExceeded):
        program.run({}, 1_000_000)
    value, cost = compile_program("[1, 2, 3].all(x, x > 0)").run({})
    assert value is True and 0 < cost < 100


def test_the_estimate_multiplies_nested_comprehensions():
    one = compile_program("object.spec.containers.all(c, c.name != '')").estimated_cost
    two = compile_program("object.spec.containers.all(c, c.env.all(e, e.name != ''))").estimated_cost
    assert 50 <= one < 1_000 and two > 50 * one


def test_regex_is_linear_time_on_hostile_input():
    # (a+)+$ backtracks exponentially in Python's re; RE2 answers at once
    assert run("'" + "a" * 5000 + "!'.matches('^(a+)+$')") is False


def test_evaluation_does_not_modify_the_input():
    before = repr(OBJ)
    run("object.spec.containers.map(c, c.name).size() == 2 && object.metadata.labels.all(k, k != '')")
    assert repr(OBJ) == before
