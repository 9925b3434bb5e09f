"""The one HCL value encoder: every config value reaches a template through `encode`.

Strings are quoted and escaped so that no config value can break out of its literal or be read
as an HCL interpolation (`${`) or directive (`%{`). The renderer refuses to print anything that
did not come from here, so templates cannot forget to encode.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Control characters have no literal form in a quoted HCL string; \uNNNN is the only safe one.
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]|\$\{|%\{')


class Hcl(str):
    """Text that is already valid HCL: the only kind of value a template may print."""

    __slots__ = ()


def expr(text: str) -> Hcl:
    """An HCL expression written by a template author (e.g. `var.tags`), passed through as is."""
    return Hcl(text)


def _escape(match: re.Match[str]) -> str:
    text = match.group()
    if text in {"${", "%{"}:
        return text[0] + text  # `$${` and `%%{` are HCL's literal forms
    return _ESCAPES.get(text) or f"\\u{ord(text):04x}"


def string(value: str) -> Hcl:
    # HCL normalises every string literal to NFC; doing it here makes what packerpy writes
    # (and fingerprints) the same string packer reads.
    return Hcl('"' + _NEEDS_ESCAPE.sub(_escape, unicodedata.normalize("NFC", value)) + '"')


def encode(value: object) -> Hcl:
    """Encode a config value (str, bool, number, None, list, mapping) as an HCL expression."""
    if isinstance(value, Hcl):
        return value
    if value is None:
        return Hcl("null")
    if isinstance(value, bool):  # before int: bool is an int subclass
        return Hcl("true" if value else "false")
    if isinstance(value, int):
        return Hcl(str(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no HCL form")
        return Hcl(repr(value))
    if isinstance(value, str):
        return string(value)
    if isinstance(value, Mapping):
        if not value:
            return Hcl("{}")
        items = ", ".join(f"{string(str(k))} = {encode(v)}" for k, v in value.items())
        return Hcl("{ " + items + " }")
    if isinstance(value, Sequence):
        return Hcl("[" + ", ".join(encode(item) for item in value) + "]")
    raise TypeError(f"cannot encode {type(value).__name__} as HCL")


def attributes(values: Mapping[str, object], indent: int = 2) -> Hcl:
    """Attribute lines with `=` aligned as `packer fmt` aligns them; None values are left out.

    Aligning here, not in the template, keeps output fmt-clean whichever optional attributes
    a config turns on.
    """
    present = {key: val for key, val in values.items() if val is not None}
    for key in present:
        if not _IDENT.fullmatch(key):
            raise ValueError(f"{key!r} is not an HCL attribute name")
    if not present:
        return Hcl("")
    width = max(len(key) for key in present)
    pad = " " * indent
    return Hcl(
        "\n".join(f"{pad}{key.ljust(width)} = {encode(val)}" for key, val in present.items())
    )
