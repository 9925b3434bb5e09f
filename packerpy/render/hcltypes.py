"""The exact HCL type of a configured variable's value, for its `variable` block.

packer refuses `any` ("an exact type is required", measured with packer 1.6.6), so a list of
mixed values is a tuple type and a mapping of mixed values an object type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from packerpy.render import hcl

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_SCALARS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "bool"),  # before number: bool is an int subclass
    ((int, float), "number"),
    (str, "string"),
)


def hcl_type(value: object) -> hcl.Hcl | None:
    """None when the type cannot be written (an object key that is not an identifier): the
    variable is then declared without one and packer infers it."""
    for kinds, name in _SCALARS:
        if isinstance(value, kinds):
            return hcl.expr(name)
    if isinstance(value, list):
        return _sequence(value)
    if isinstance(value, Mapping):
        return _mapping(value)
    return None


def _sequence(value: list[object]) -> hcl.Hcl | None:
    kinds = [hcl_type(item) for item in value]
    if any(kind is None for kind in kinds):
        return None
    if value and len(set(kinds)) == 1:
        return hcl.expr(f"list({kinds[0]})")
    return hcl.expr(f"tuple([{', '.join(map(str, kinds))}])")


def _mapping(value: Mapping[object, object]) -> hcl.Hcl | None:
    fields = {str(key): hcl_type(item) for key, item in value.items()}
    if any(kind is None for kind in fields.values()):
        return None
    if value and len(set(fields.values())) == 1:
        return hcl.expr(f"map({next(iter(fields.values()))})")
    if not all(_IDENTIFIER.fullmatch(key) for key in fields):
        return None
    # `packer fmt` spaces the braces: object({ a = string })
    items = ", ".join(f"{key} = {kind}" for key, kind in fields.items())
    return hcl.expr(f"object({{ {items} }})")
