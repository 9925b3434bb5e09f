"""Removing secret values from everything packer, and the shells it runs, print.

packer prints a sensitive variable's value when a script echoes it: 1.6 always, and 1.7-1.11 in
`-machine-readable` mode too (`MachineReadableUi.Machine` writes the unfiltered value: packer
ui.go @v1.7.0:196-197, @v1.11.2:235-236). So packerpy redacts on every packer version.

A value is printed in many more forms than itself (reliability review 3.1-3.3), and `Redactor`
looks for all of them:
- packer's machine-readable escaping: `,` -> `%!(PACKER_COMMA)`, newline -> `\\n`, CR -> `\\r`;
- each line of a multi-line value (a script prints it line by line), the value with its
  whitespace collapsed (an unquoted `echo $X` joins the lines and runs of spaces with one space),
  and each of its words (`set -x` quotes an unquoted $X word by word);
- its trimmed form (`echo $X` drops leading and trailing whitespace);
- POSIX shell quoting: shlex.quote and packer's shell-local `'"'"'` style, bash xtrace's `'\\''`
  style, and bash `printf %q`'s backslash and `$'...'` forms (checked against bash 5.2);
- JSON string escaping (ensure_ascii on and off);
- a non-UTF-8 value as packerpy decodes it (`errors="replace"`) and each valid run of it.
A part (a line, a word, a trimmed or valid run) shorter than MIN_SECRET_LENGTH is not redacted
on its own: a short line such as `}` or `-----` would match everywhere and wreck the log (review
3.4: the secret `a` made 621 replacements and turned exit 6 into 4). The price: such a fragment,
printed alone, shows; the whole value and its forms never do.

Redaction replaces the union of every occurrence of every form by `***`, so overlapping secrets
and forms never leave a piece behind (review 3.3: `***-SUFFIXPART`), and repeats until no form is
left. A machine-readable line keeps its timestamp, target and type fields as they are: only the
data fields are redacted (unescaped, redacted, escaped again), so the line still parses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from packerpy.errors import PackerError
from packerpy.packer.events import unescape

# Shorter secrets are refused (bake/gates.py read_secrets), and shorter parts are left alone.
MIN_SECRET_LENGTH = 8
REDACTED = "***"
PACKER_MASK = "<sensitive>"
_COMMA = "%!(PACKER_COMMA)"
# What bash 5.2's `printf %q` backslash-escapes in a printable value (measured over all of
# ASCII); `#` and `~` only lead, which a substring match covers anyway.
_SHELL_SPECIAL = re.compile(r"[!\"$&()*,;<>?\[\\\]^`{|}' \t]")
# bash's $'...' quoting (`printf %q` of a value with a control character, e.g. a newline).
_ANSI_C = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ANSI_C |= {"\v": "\\v", "\x1b": "\\E", "\\": "\\\\", "'": "\\'"}


class ShortSecretError(ValueError):
    """A secret value too short to redact without destroying the log."""


def too_short(value: str) -> bool:
    """True when `value`, without surrounding whitespace, is shorter than MIN_SECRET_LENGTH."""
    return len(value.strip()) < MIN_SECRET_LENGTH


def packer_escape(text: str) -> str:
    """How packer writes `text` in a machine-readable data field (the inverse of unescape)."""
    return text.replace(",", _COMMA).replace("\r", "\\r").replace("\n", "\\n")


def _parts(value: str) -> Iterator[str]:
    """The value and the pieces of it a program may print on their own."""
    yield value
    yield value.strip()
    yield " ".join(value.split())
    for line in value.splitlines():
        yield line
        yield line.strip()
    # An unquoted $X is split into words, which `set -x` then quotes one by one.
    yield from value.split()
    raw = value.encode("utf-8", "surrogateescape")  # os.environ decodes bytes this way
    decoded = raw.decode("utf-8", "replace")
    if decoded != value:
        yield decoded
        yield from decoded.split("\ufffd")
        # Bytes beside the value can complete or break its first or last sequence when a
        # line is decoded, so the value without its invalid ends is a form too.
        yield decoded.strip("\ufffd")


def _encodings(part: str) -> Iterator[str]:
    """`part` as shells and JSON print it."""
    yield part
    yield part.replace("'", "'\"'\"'")  # shlex.quote and packer shell-local, quotes aside
    yield part.replace("'", "'\\''")  # bash xtrace (`set -x`)
    yield _SHELL_SPECIAL.sub(lambda m: "\\" + m.group(0), part)  # printf %q
    yield "".join(_ansi_c(char) for char in part)  # printf %q, $'...' form
    yield json.dumps(part)[1:-1]
    yield json.dumps(part, ensure_ascii=False)[1:-1]


def _ansi_c(char: str) -> str:
    if char in _ANSI_C:
        return _ANSI_C[char]
    if char.isprintable():
        return char
    return "".join(f"\\{byte:03o}" for byte in char.encode("utf-8", "surrogateescape"))


def forms(value: str) -> frozenset[str]:
    """Every form of `value` Redactor removes; parts shorter than MIN_SECRET_LENGTH dropped."""
    found = {
        written
        for part in _parts(value)
        for encoded in _encodings(part)
        for written in (encoded, packer_escape(encoded))
    }
    return frozenset(form for form in found if len(form) >= MIN_SECRET_LENGTH)


def _spans(text: str, patterns: Iterable[str]) -> list[tuple[int, int]]:
    """Merged [start, end) spans covering every (overlapping) occurrence of every pattern."""
    spans: list[tuple[int, int]] = []
    for pattern in patterns:
        start = text.find(pattern)
        while start != -1:
            spans.append((start, start + len(pattern)))
            start = text.find(pattern, start + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


class Redactor:
    """Built once from the secret values; removes every form of each from text and lines."""

    def __init__(self, values: Iterable[str]) -> None:
        values = list(values)
        if short := [value for value in values if too_short(value)]:
            raise ShortSecretError(
                f"{len(short)} secret value(s) shorter than {MIN_SECRET_LENGTH} characters"
            )
        found = {f for v in values for f in forms(v)}
        # packer's own log filter (PACKER_LOG=1) replaces each sensitive value by <sensitive>
        # in map order, so a value containing another is logged half-masked:
        # B_TOKEN='<sensitive>-SUFFIXa7896bd1d337' (packer 1.6.6, measured).
        found |= {f.replace(v, PACKER_MASK) for f in found for v in values if v in f and v != f}
        # Longest first: the quick `in` test below stops at the first (usually longest) hit.
        self._forms = sorted(found, key=len, reverse=True)
        self._bytes = [f.encode("utf-8", "surrogateescape") for f in self._forms]

    def __bool__(self) -> bool:
        return bool(self._forms)

    def text(self, text: str) -> str:
        """`text` with every form of every secret replaced by `***`; unchanged without one."""
        while any(form in text for form in self._forms):
            pieces: list[str] = []
            last = 0
            for start, end in _spans(text, (f for f in self._forms if f in text)):
                pieces += [text[last:start], REDACTED]
                last = end
            text = "".join([*pieces, text[last:]])
        return text

    def data(self, data: bytes) -> bytes:
        """The same on bytes, before they are decoded (a non-UTF-8 value is matched exactly)."""
        while any(form in data for form in self._bytes):
            pieces: list[bytes] = []
            last = 0
            found = [f for f in self._bytes if f in data]
            for start, end in _spans(data.decode("latin-1"), (f.decode("latin-1") for f in found)):
                pieces += [data[last:start], REDACTED.encode()]
                last = end
            data = b"".join([*pieces, data[last:]])
        return data

    def error(self, exc: PackerError) -> PackerError:
        """`exc` with its message and tail redacted (the same object when nothing was found)."""
        message = self.text(exc.message)
        tail = tuple(self.text(line) for line in exc.tail)
        if message == exc.message and tail == exc.tail:
            return exc
        return type(exc)(message, command=exc.command, returncode=exc.returncode, tail=tail)

    def line(self, line: str) -> str:
        """One line of packer's output, its machine-readable fields kept parseable.

        A `timestamp,target,type,data...` line keeps its first three fields as they are (so
        it still parses as events.parse_line reads it); each data field is redacted raw and
        unescaped. Any other line (packer's log, a panic) is redacted as text.
        """
        if not self._forms:
            return line
        fields = line.split(",")
        if len(fields) < 3 or not fields[0].isdigit():
            return self.text(line)
        return ",".join([*fields[:3], *(self._field(field) for field in fields[3:])])

    def _field(self, field: str) -> str:
        escaped = self.text(field)
        plain = unescape(escaped)
        redacted = self.text(plain)
        return escaped if redacted == plain else packer_escape(redacted)
