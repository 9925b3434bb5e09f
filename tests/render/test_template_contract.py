"""The template contract: templates read only what render/contract.py declares."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path

import jinja2
import pytest
from jinja2 import meta, nodes
from pydantic import BaseModel

from packerpy.aws.settings import AwsSettings
from packerpy.config import RESERVED_VARIABLES
from packerpy.errors import TemplateError
from packerpy.packer.binary import PackerInfo
from packerpy.render import contract, jinja
from packerpy.support import paths
from tests.render.test_jinja import V1_9, VARIANTS, override, project_for, rendered, settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "template-contract.md"
BUILTIN = paths.builtin("hcl_templates") / "amazon-ebs.pkr.hcl.j2"


def _leaf_or_children(hint: object) -> dict[str, object] | None:
    """The declared attributes of a context type, or None for a plain value."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if isinstance(hint, types.UnionType) and len(args) == 1:
        hint = args[0]
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return {f.name: hints[f.name] for f in dataclasses.fields(hint)}
    if typing.is_typeddict(hint):
        return dict(typing.get_type_hints(hint))
    return None


def declared_paths(hint: object = contract.TemplateContext, prefix: str = "") -> set[str]:
    """Every dotted name a template may read: `image`, `image.share`, `image.share.accounts`…"""
    found: set[str] = set()
    for name, child in (_leaf_or_children(hint) or {}).items():
        path = f"{prefix}{name}"
        found |= {path, *declared_paths(child, path + ".")}
    return found


def read_paths(source: str) -> set[str]:
    """Every dotted name a template reads (`a.b.c` -> a.b.c, plus its prefixes)."""
    found: set[str] = set()
    for node in jinja.template_environment(()).parse(source).find_all(nodes.Getattr):
        chain: list[str] = []
        current: nodes.Node = node
        while isinstance(current, nodes.Getattr):
            chain.insert(0, current.attr)
            current = current.node
        if isinstance(current, nodes.Name):
            found.add(".".join([current.name, *chain]))
    return found


def test_builtin_template_reads_only_declared_names() -> None:
    ast = jinja.template_environment(()).parse(BUILTIN.read_text())
    undeclared = meta.find_undeclared_variables(ast)
    allowed = contract.context_names() | set(contract.TEMPLATE_FUNCTIONS)
    assert undeclared <= allowed, sorted(undeclared - allowed)
    assert "image" in undeclared and "packer" in undeclared  # the walk did see the template


def test_builtin_template_reads_only_declared_attributes() -> None:
    read = read_paths(BUILTIN.read_text())
    assert "image.share.accounts" in read and "inventory.from" in read
    assert read <= declared_paths(), sorted(read - declared_paths())


def test_helpers_are_the_declared_ones() -> None:
    env = jinja.template_environment(())
    assert issubclass(env.undefined, jinja2.StrictUndefined)
    assert set(contract.TEMPLATE_FILTERS) <= set(env.filters)
    assert set(contract.TEMPLATE_FUNCTIONS) <= set(env.globals)


def _values(value: object) -> typing.Iterator[object]:
    yield value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _values(getattr(value, f.name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _values(item)
    elif isinstance(value, tuple):
        for item in value:
            yield from _values(item)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_context_holds_only_contract_views(tmp_path: Path, variant: str) -> None:
    project = project_for(tmp_path, VARIANTS[variant])
    context = contract.build_context(
        project,
        "web",
        project.image("web"),
        settings(project),
        V1_9,
        scripts=("scripts/00-probe.sh",),
        base_ami=None,
    )
    assert set(context.as_jinja()) == contract.context_names()
    internal = (BaseModel, AwsSettings, PackerInfo, Path)
    leaked = [v for v in _values(context.as_jinja()) if isinstance(v, internal)]
    assert not leaked


def test_var_file_variables_are_the_reserved_ones(tmp_path: Path) -> None:
    result = rendered(tmp_path / "a")
    assert set(contract.VAR_FILE_VARIABLES) == RESERVED_VARIABLES
    # The key file's path only when one is configured.
    assert set(result.variables) == RESERVED_VARIABLES - {contract.KEY_FILE_VARIABLE}
    assert set(rendered(tmp_path / "b", VARIANTS["ssh"]).variables) == RESERVED_VARIABLES


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("{{ image.version | hcl }}", "image.version"),
        ('{{ attrs({"tags": image.tags}) }}', "image.tags"),
        ("{% if image.share.everyone %}x{% endif %}", "image.share.everyone"),
        ("{{ packer.binary | hcl }}", "packer.binary"),
        ("{{ regions | hcl }}", "'regions'"),
    ],
)
def test_undeclared_name_in_project_template_is_a_template_error(
    tmp_path: Path, line: str, name: str
) -> None:
    override(tmp_path, f"build {{\n  x = {line}\n}}\n")
    with pytest.raises(TemplateError) as info:
        rendered(tmp_path)
    template = tmp_path / "hcl_templates" / "amazon-ebs.pkr.hcl.j2"
    assert info.value.message == (
        f"{template}:2: {name} is undefined: not in template contract v2 "
        "(docs/template-contract.md)"
    )


def test_unencodable_value_names_the_line(tmp_path: Path) -> None:
    override(tmp_path, "build {\n  x = {{ image.share | hcl }}\n}\n")
    with pytest.raises(TemplateError, match=r"amazon-ebs.pkr.hcl.j2:2: cannot encode ShareView"):
        rendered(tmp_path)


def test_document_names_the_version_and_every_declared_name() -> None:
    text = DOC.read_text()
    assert f"version {contract.TEMPLATE_CONTRACT_VERSION}" in text.lower()
    missing = [p for p in sorted(declared_paths()) if f"`{p.rsplit('.', 1)[-1]}`" not in text]
    assert not missing
    for name in (*contract.VAR_FILE_VARIABLES, *contract.TEMPLATE_FUNCTIONS, "hcl"):
        assert f"`{name}" in text
    assert len(text.splitlines()) <= 80
