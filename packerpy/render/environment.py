"""The Jinja environment templates run in: strict about names, printing only encoded HCL.

What a template may read is declared in render/contract.py; render/jinja.py renders with this.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping
from pathlib import Path

import jinja2
from jinja2.utils import missing

from packerpy.render import hcl
from packerpy.render.contract import TEMPLATE_CONTRACT_VERSION
from packerpy.support import paths

CONTRACT_HINT = f"not in template contract v{TEMPLATE_CONTRACT_VERSION} (docs/template-contract.md)"


class Refused(Exception):
    """A value a template tried to print that is not HCL; render() adds file:line."""


class _ContractUndefined(jinja2.StrictUndefined):
    """StrictUndefined whose message names the missing contract path (`image.version`)."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        owner = getattr(type(self._undefined_obj), "_path", None)
        if self._undefined_hint or not isinstance(self._undefined_name, str):
            return super()._undefined_message
        if self._undefined_obj is missing or owner == "":
            return f"{self._undefined_name!r} is undefined: {CONTRACT_HINT}"
        if owner is not None:
            return f"{owner}.{self._undefined_name} is undefined: {CONTRACT_HINT}"
        return super()._undefined_message


def _finalize(value: object) -> object:
    """Everything a template prints must have passed through the HCL encoder."""
    if isinstance(value, hcl.Hcl):
        return value
    raise Refused(
        f"{value!r} printed without the hcl filter "
        "(write {{ value | hcl }} so it is quoted and escaped)"
    )


def _defined(value: object) -> None:
    """Raise the UndefinedError for an undefined value anywhere inside `value`."""
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises UndefinedError naming the missing variable
    elif isinstance(value, Mapping):
        for item in value.values():
            _defined(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _defined(item)


def _encode(value: object) -> hcl.Hcl:
    _defined(value)
    try:
        return hcl.encode(value)
    except (TypeError, ValueError) as exc:
        raise Refused(str(exc)) from None


def _attrs(values: Mapping[str, object], indent: int = 2) -> hcl.Hcl:
    _defined(values)
    try:
        return hcl.attributes(values, indent)
    except (TypeError, ValueError) as exc:
        raise Refused(str(exc)) from None


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept in the user's cache: compiling the built-in template took
    0.067 s of every build. Jinja keys each by the template's path and checks the source's
    checksum (an edited template compiles again) and Python's version before using it."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):  # jinja's own misses only some (a file as parent)
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        # A cache that cannot be written only loses the speed-up.
        with contextlib.suppress(OSError):
            Path(self.directory).mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)


# One per search path: a template compiles once, not per image (half of a 50-image validate).
@functools.cache
def template_environment(search_path: tuple[Path, ...]) -> jinja2.Environment:
    """The Jinja env over `search_path`: strict about names, and prints only encoded HCL.

    Named apart from binary.environment, which is packer's process environment.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(path) for path in search_path]),
        undefined=_ContractUndefined,
        # HCL is not HTML: escaping is hcl.encode's job, so Jinja's autoescape stays off.
        autoescape=False,  # noqa: S701
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
        bytecode_cache=_CompiledTemplates(str(paths.user_cache("jinja"))),
    )
    # contract.TEMPLATE_FILTERS and TEMPLATE_FUNCTIONS: the helpers every template may use.
    env.filters["hcl"] = _encode
    env.globals["attrs"] = _attrs
    env.globals["expr"] = hcl.expr
    return env
