"""Version constraints as packer reads them in `required_plugins` (hashicorp/go-version).

`>= 1.2.2, <= 1.3.9`, `~> 1`, `= 1.3.9`: comma-separated terms, every term must hold. A term
with no operator means `=`. `~>` is pessimistic: `~> 1` and `~> 1.2` allow up to the next
major, `~> 1.2.3` up to the next minor. Pre-releases are not modelled: packerpy only reasons
about released plugins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Triple = tuple[int, int, int]

_TERM = re.compile(r"(=|!=|>=|<=|>|<|~>)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")
_FULL = 3  # major.minor.patch written out
EXAMPLE = "e.g. '>= 1.2.2, <= 1.3.9', '~> 1' or '= 1.3.9'"


@dataclass(frozen=True)
class Term:
    op: str
    version: Triple
    parts: int  # how many of major.minor.patch were written (`~>` depends on it)

    def allows(self, version: Triple) -> bool:
        if self.op == "~>":
            major, minor, _ = self.version
            # major or major.minor: up to the next major; major.minor.patch: the next minor.
            upper = (major, minor + 1, 0) if self.parts == _FULL else (major + 1, 0, 0)
            return self.version <= version < upper
        return {
            "=": version == self.version,
            "!=": version != self.version,
            ">": version > self.version,
            "<": version < self.version,
            ">=": version >= self.version,
            "<=": version <= self.version,
        }[self.op]


def parse(text: str) -> tuple[Term, ...]:
    """The terms of `text`; ValueError naming the text when it is not a constraint."""
    terms = []
    for raw in text.split(","):
        found = _TERM.fullmatch(raw.strip())
        if found is None:
            raise ValueError(f"{text!r} is not a version constraint ({EXAMPLE})")
        op, *numbers = found.groups()
        written = [int(n) for n in numbers if n is not None]
        padded = (*written, 0, 0)[:3]
        terms.append(Term(op or "=", (padded[0], padded[1], padded[2]), len(written)))
    return tuple(terms)


def allows(text: str, version: Triple) -> bool:
    return all(term.allows(version) for term in parse(text))


def floor(text: str) -> Triple | None:
    """The lowest version the constraint allows; None when it allows none.

    Only the written versions (and `>`'s next patch) can be the lowest, so trying them in order
    is exact for released versions.
    """
    terms = parse(text)
    candidates = {(0, 0, 0)}
    for term in terms:
        candidates.add(term.version)
        if term.op in {">", "!="}:
            candidates.add((term.version[0], term.version[1], term.version[2] + 1))
    return next((v for v in sorted(candidates) if all(t.allows(v) for t in terms)), None)


def parse_version(text: str) -> Triple | None:
    """`1.3.9` or `v1.3.9` as a triple; None when it is not one."""
    found = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", text.strip())
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def text(version: Triple) -> str:
    return ".".join(map(str, version))
