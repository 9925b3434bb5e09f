"""Checks every string of packerpy.toml gets, wherever it is: one walk over the parsed document.

A check applied field by field misses the next field someone adds; this walk sees every key and
value (variables and tags included) before the models do, so a new string field is covered too.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any

# Longest string anywhere in the file. Fields with a tighter AWS or filesystem limit say so in
# their own type; this bound keeps a 1 MB value from reaching packer's argv (E2BIG) or a message.
STRING_MAX = 4096
# How deep tables and arrays may nest. tomllib itself recurses about 3 frames per level and
# raises RecursionError near 800 levels; no real config nests more than a few levels.
DEPTH_MAX = 24
# Values longer than this are shortened in error messages (a message stays one readable line).
SHOWN_MAX = 80

# packer runs Go text/template over many string fields of the amazon builder (tags, run_tags,
# provisioner environment, ssh_username, filter names, ...): `{{ timestamp }}` in a tag becomes a
# number and `{{ env "X" }}` fails mid-bake. There is no escape that survives every field, so a
# config string may not contain the delimiters at all.
_GO_TEMPLATE = re.compile(r"\{\{|\}\}")
# C0 controls, DEL and C1 controls: EC2 refuses NUL/ESC in tags at RunInstances (after launch),
# and none of them has a use in a name, path or id. Tab and newline are allowed only where a
# multi-line value makes sense (variable values and provisioner environment values).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_TAB_NL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class DocumentError(Exception):
    """A problem the walk found: where (a field path), the value, and what is wrong."""

    def __init__(self, loc: tuple[str | int, ...], value: object, reason: str) -> None:
        super().__init__(reason)
        self.loc = loc
        self.value = value
        self.reason = reason


def show(value: object) -> str:
    """repr(value), shortened in the middle when long, so errors never echo 1 MB."""
    text = repr(value)
    if len(text) <= SHOWN_MAX:
        return text
    return f"{text[: SHOWN_MAX - 20]}…{text[-10:]} ({len(str(value))} characters)"


def check_document(raw: dict[str, Any]) -> None:
    """Raise ValueError `field.path: 'value' what is wrong` for the first bad key or value."""
    for problem in _walk(raw, ()):
        raise ValueError(f"{dotted(problem.loc)}: {show(problem.value)} {problem.reason}")


def dotted(loc: tuple[str | int, ...]) -> str:
    """('images', 'web', 'regions', 1) -> 'images.web.regions[1]'; odd keys quoted (repr)."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + key_text(item))
    return "".join(parts)


def key_text(key: str) -> str:
    """A key as a message shows it: as is when plain, else quoted and escaped like a value
    (a NEL or U+2028 in a key would otherwise split the one-line error)."""
    if _PLAIN_KEY.fullmatch(key):
        return key
    return show(key)


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_:/@+=-]{1,80}", re.ASCII)


def _multiline_ok(loc: tuple[str | int, ...]) -> bool:
    # images.NAME.variables.* and images.NAME.provisioner_env.VALUE may span lines.
    return len(loc) >= 4 and loc[0] == "images" and loc[2] in {"variables", "provisioner_env"}


def _walk(node: object, loc: tuple[str | int, ...]) -> Iterator[DocumentError]:
    if len(loc) > DEPTH_MAX:
        yield DocumentError(loc[:DEPTH_MAX], "…", f"nests more than {DEPTH_MAX} levels deep")
        return
    if isinstance(node, dict):
        # HCL normalises identifiers and map keys to NFC: "café" (NFC) and "café" (NFD) are two
        # TOML and AWS keys, but one duplicated key in the rendered var file (packer keeps one).
        seen: dict[str, str] = {}
        for key, value in node.items():
            other = seen.setdefault(unicodedata.normalize("NFC", key), key)
            if other != key:
                yield DocumentError(
                    (*loc, key), key, f"is the same key as {other!r} once NFC-normalised (HCL)"
                )
            yield from _string(key, (*loc, key), is_key=True)
            yield from _walk(value, (*loc, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, (*loc, index))
    elif isinstance(node, str):
        yield from _string(node, loc, is_key=False)
    elif isinstance(node, float) and not math.isfinite(node):
        yield DocumentError(loc, node, "is not a finite number (HCL and JSON have no NaN or inf)")
    elif isinstance(node, datetime | date | time):
        yield DocumentError(loc, node, "is a TOML date or time; write it as a string")


def _string(text: str, loc: tuple[str | int, ...], *, is_key: bool) -> Iterator[DocumentError]:
    if len(text) > STRING_MAX:
        yield DocumentError(loc, text, f"is longer than {STRING_MAX} characters")
    elif _GO_TEMPLATE.search(text):
        yield DocumentError(
            loc,
            text,
            "contains '{{' or '}}', which packer would evaluate as a Go template "
            "(packer has no escape for it in every field)",
        )
    elif (_CONTROL if is_key or not _multiline_ok(loc) else _CONTROL_BUT_TAB_NL).search(text):
        yield DocumentError(loc, text, "contains a control character")
