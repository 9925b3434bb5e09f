"""Fuzz: every packerpy.toml either loads, or fails with exit 2 and one line naming the field.

Configs are a valid project with one field replaced. The fields come from `config.json_schema()`
(every property of every section, and a new key under each table-valued field), and each value
is either of the field's schema type (strings with control characters, `{{`, 5,000 characters,
paths, ARNs, ...) or any TOML value at all (NaN, inf, dates, nested tables). Each config goes
through the command line's error boundary in process (`lint`, the cheapest command that loads the
config and then uses it), so a crash shows as exit 3 and its message.

Not hypothesis-jsonschema: it generates only what a schema accepts, and the point here is the
values the schema cannot describe (a NaN inside a variable, a path outside the project).
"""

from __future__ import annotations

import functools
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import tomlkit
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from packerpy import config
from packerpy.cli import app as cli
from packerpy.errors import EXIT_CONFIG, EXIT_LINT, EXIT_OK
from packerpy.lint import secrets
from packerpy.packer import binary
from tests.helpers import examples

# >= 500 examples in CI (issue 9); about 20 s on one core. `make unit` (the `dev` hypothesis
# profile) runs a fifth of them; `make test` runs all 500.
settings.register_profile(
    "config-fuzz",
    max_examples=examples(500),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

BASE: dict[str, Any] = {
    "project": {"name": "fuzz"},
    "images": {"web": {"version": "1.0.0", "base": {"ami": "ami-03cf127a"}}},
}
INTERESTING = [
    "",
    "x",
    "us-east-1",
    "cn-north-1",
    "t3.micro",
    "x.y",
    "ami-03cf127a",
    "111122223333",
    "\u0661" * 12,
    "/opt/x",
    "/opt/a b",
    "//",
    "/",
    "/etc",
    "..",
    "../outside",
    "5m",
    "180d",
    "99999999999w",
    "alias/aws/ebs",
    "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:kms:eu-west-1:111122223333:key/-",
    "arn:aws:organizations::111122223333:organization/o-abcdefghij",
    "http://[x",
    "http://127.0.0.1:1",
    "{{ timestamp }}",
    "}}",
    "${",
    "%{",
    "aws:x",
    "packerpy:x",
    "caf\u0065\u0301",
    "a\x00b",
    "\x1b[31m",
    "[/oops]",
    ":thumbs_up:",
    "x" * 5000,
    "ssh",
    "none",
    "{image}-{version}",
    "{image.__class__}",
    "1.0.0+build",
    "01.0.0",
    "harden",
    "scrub",
]

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40
)  # no lone surrogates: packerpy.toml is UTF-8
_strings = st.one_of(st.sampled_from(INTERESTING), _text)
_scalars = st.one_of(
    _strings,
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(date(1979, 5, 27)),
    st.just(datetime(1979, 5, 27, 7, 32, tzinfo=UTC)),
)
_any = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(_strings, inner, max_size=4)
    ),
    max_leaves=12,
)


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """$refs followed; `X | None` (anyOf with null) is X: TOML has no null."""
    branches = [s for s in schema.get("anyOf", ()) if s.get("type") != "null"]
    if len(branches) == 1:
        schema = branches[0]
    if "$ref" in schema:
        return root["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


_SCALAR_KINDS: dict[str, st.SearchStrategy[Any]] = {
    "string": _strings,
    "integer": st.integers(min_value=-(2**40), max_value=2**40),
    "boolean": st.booleans(),
}


def _typed(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the JSON type the schema names (not necessarily valid ones)."""
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        branches = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return st.one_of(*(_typed(s, root) for s in branches))
    if "enum" in schema:
        return st.one_of(st.sampled_from(schema["enum"]), _strings)
    kind = schema.get("type")
    if kind in _SCALAR_KINDS:
        return _SCALAR_KINDS[kind]
    if kind == "array":
        items = schema.get("items", {})
        return st.lists(_typed(items, root) if items else _any, max_size=4)
    if kind == "object":
        return _table(schema, root)
    return _any


def _table(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "properties" in schema:
        fields = {k: _typed(v, root) for k, v in schema["properties"].items()}
        return st.fixed_dictionaries({}, optional=fields)
    extra = schema.get("additionalProperties")
    values = _typed(extra, root) if isinstance(extra, dict) and extra else _any
    return st.dictionaries(_strings, values, max_size=4)


def _fields(schema: dict[str, Any], root: dict[str, Any], at: tuple[str, ...]) -> list[Any]:
    """(path, schema) of every property reachable from `schema`, images as images.web."""
    schema = _resolve(schema, root)
    out: list[Any] = []
    for key, sub in schema.get("properties", {}).items():
        path = (*at, key)
        out.append((path, sub))
        resolved = _resolve(sub, root)
        if key == "images":
            out.extend(_fields(resolved["additionalProperties"], root, (*path, "web")))
        elif "properties" in resolved:
            out.extend(_fields(resolved, root, path))
        elif resolved.get("type") == "object":
            out.append(((*path, "fuzzkey"), resolved.get("additionalProperties", {})))
    return out


SCHEMA = config.json_schema()
FIELDS = _fields(SCHEMA, SCHEMA, ())


@st.composite
def mutated_configs(draw: st.DrawFn) -> tuple[tuple[str, ...], dict[str, Any]]:
    path, schema = draw(st.sampled_from(FIELDS))
    value = draw(st.one_of(_typed(schema, SCHEMA), _any))
    doc: dict[str, Any] = tomlkit.parse(tomlkit.dumps(BASE)).unwrap()
    node = doc
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(node.get(key, {}), dict) else {}
    node[path[-1]] = value
    return path, doc


def _toml(doc: dict[str, Any]) -> str | None:
    try:
        return tomlkit.dumps(doc)
    except (ValueError, TypeError, RecursionError):  # a value tomlkit cannot write
        return None


@pytest.fixture
def fast_lint(monkeypatch: pytest.MonkeyPatch) -> None:
    """What lint does besides loading the config, made cheap: it is not what is fuzzed here.

    Building typer's click group (80 ms), asking packer its version (a subprocess) and
    detect-secrets (90 ms) would make 500 examples take minutes.
    """
    monkeypatch.setattr(typer.main, "get_group", functools.cache(typer.main.get_group))
    info = binary.detect()
    monkeypatch.setattr(binary, "detect", lambda: info)
    monkeypatch.setattr(secrets, "scan", lambda *_args: ([], []))


def _named(path: tuple[str, ...]) -> str:
    """The part of the mutated field's path every error line must name."""
    if path[0] == "images" and len(path) > 2:
        return path[2]
    return path[min(1, len(path) - 1)]


@settings(settings.get_profile("config-fuzz"))
@given(case=mutated_configs())
def test_every_config_loads_or_fails_with_one_line_naming_the_field(
    case: tuple[tuple[str, ...], dict[str, Any]],
    fast_lint: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path, doc = case
    text = _toml(doc)
    if text is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "packerpy.toml").write_text(text, encoding="utf-8")
        monkeypatch.chdir(root)
        capsys.readouterr()
        code = cli.run(["lint"])
        err = capsys.readouterr().err
    assert code in {EXIT_OK, EXIT_LINT, EXIT_CONFIG}, err
    assert "Traceback" not in err
    if code == EXIT_CONFIG:
        # One line per problem: the first is the error, any further problem of the same field
        # (a table with two bad keys) one indented line each; never a multi-line message.
        first, *more = err.splitlines()
        assert first.startswith("packerpy: error: packerpy.toml: "), err
        assert all(line.startswith("  packerpy.toml: ") for line in more), err
        for line in (first, *more):
            assert len(line) < 600, err
            assert _named(path) in line, (path, err)


def test_the_fuzzer_reaches_every_section() -> None:
    reached = {".".join(path) for path, _ in FIELDS}
    for field in (
        "project.templates_dir",
        "aws.endpoint_url",
        "images.web.variables.fuzzkey",
        "images.web.tags.fuzzkey",
        "images.web.share.accounts",
        "images.web.communicator.ssh_timeout",
        "images.web.base.filter.owners",
    ):
        assert field in reached
