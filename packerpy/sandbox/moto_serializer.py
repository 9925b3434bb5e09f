"""Sandbox-only: moto 5.2.5's response serializer, with each attribute's candidate names
worked out once instead of once per value. Same names in the same order, so every response is
serialized exactly as before.

For every member of every object it serializes, moto's XFormedAttributePicker builds six alias
providers and asks each for a name to try (the model's name, the shape's name, prefixes of the
class or the parent shape, then each one's snake_case form). Measured on the sandbox server
(py-spy): 64% of a DescribeImages that lists cleanup's 500 AMIs, which the 5,000-AMI bench
asks for three times per plan.

The names depend on the object's class, the member's key, its shape and the shape's parent
(set by the serializer just before), and on the object's `Meta.serialization_aliases`; the
last is read for every value, as moto does, and everything else is remembered per
(class, key, shape, parent). botocore and moto load each service model once, so its shapes are
the same objects from one request to the next.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from moto.core.serialize import (
    DEFAULT_ALIAS_PROVIDERS,
    AttributePickerContext,
    ExplicitAlias,
    XFormedAttributePicker,
)

_MOTO_POSSIBLE_KEYS = XFormedAttributePicker.get_possible_keys
# Every provider but ExplicitAlias (the first): what they answer depends on no value.
_SHAPE_PICKER = XFormedAttributePicker(alias_providers=DEFAULT_ALIAS_PROVIDERS[1:])
_EXPLICIT_PICKER = XFormedAttributePicker(alias_providers=[ExplicitAlias])
# A bound on what is remembered: a long-lived sandbox never grows without limit.
MAX_REMEMBERED = 100_000

# (class, key, id(shape), id(parent)) -> (shape, parent, names). The shape and parent are
# kept, and compared by identity on each hit, so a reused id never answers for another shape.
_remembered: dict[tuple[type, str, int, int], tuple[Any, Any, tuple[str, ...]]] = {}
_lock = threading.Lock()


def _shape_names(context: AttributePickerContext) -> tuple[str, ...]:
    shape = context.shape
    parent = getattr(shape, "parent", None)
    key = (context.obj.__class__, context.key, id(shape), id(parent))
    found = _remembered.get(key)
    if found is not None and found[0] is shape and found[1] is parent:
        return found[2]
    names = tuple(_MOTO_POSSIBLE_KEYS(_SHAPE_PICKER, context))
    with _lock:
        if len(_remembered) >= MAX_REMEMBERED:
            _remembered.clear()
        _remembered[key] = (shape, parent, names)
    return names


def possible_keys(self: XFormedAttributePicker, context: AttributePickerContext) -> Iterator[str]:
    """XFormedAttributePicker.get_possible_keys: the same names, in the same order."""
    if self.alias_providers is not DEFAULT_ALIAS_PROVIDERS:
        yield from _MOTO_POSSIBLE_KEYS(self, context)
        return
    if ExplicitAlias(context).has_alias(context.key):
        yield from _MOTO_POSSIBLE_KEYS(_EXPLICIT_PICKER, context)
    yield from _shape_names(context)


def remembered() -> int:
    """How many (class, key, shape, parent) are remembered (tests)."""
    return len(_remembered)


def install() -> None:
    """Replace the picker's name lookup in this process (idempotent)."""
    XFormedAttributePicker.get_possible_keys = possible_keys  # type: ignore[method-assign,assignment]
