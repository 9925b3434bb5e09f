"""A hand-written template directory as data: its variables, sources, builds, post-processors.

Read with python-hcl2, never rendered and never written: packer's own `{{timestamp}}` and
`${...}` stay exactly as the user wrote them. python-hcl2 8 keeps string literals quoted and
expressions as `${...}`; `value()` tells the two apart so a literal can be shown and an
expression is only ever named.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packerpy.errors import ConfigError, TemplateError
from packerpy.support.paths import display_path

# The values packerpy passes to an adopted template, by the variable a template declares.
ROLES = ("ami_name", "image_version", "tags", "region", "aws_endpoint")
# Sources whose EC2 calls packerpy knows how to route to an endpoint (custom_endpoint_ec2).
AMAZON_SOURCES = frozenset({"amazon-ebs", "amazon-ebssurrogate", "amazon-ebsvolume"})


@dataclass(frozen=True)
class Expr:
    """An HCL expression packer evaluates (`var.region`, `timestamp()`): shown, not evaluated."""

    text: str

    @property
    def variable(self) -> str | None:
        """`var.NAME` alone -> NAME."""
        inner = self.text.removeprefix("var.")
        return inner if inner != self.text and inner.isidentifier() else None


def value(raw: Any) -> Any:  # noqa: ANN401 - python-hcl2's JSON-like output
    """A python-hcl2 value as Python: literals unquoted, `${x}` as Expr(x)."""
    if isinstance(raw, str):
        return _string(raw)
    if isinstance(raw, list):
        return [value(item) for item in raw]
    if isinstance(raw, dict):
        return {_label(k): value(v) for k, v in raw.items() if k != "__is_block__"}
    return raw


def _string(raw: str) -> object:
    if raw.startswith("${") and raw.endswith("}"):
        return Expr(raw[2:-1])
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        try:
            return json.loads(raw)
        except ValueError:
            return raw[1:-1]
    return raw


def _label(raw: str) -> str:
    return raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw


@dataclass(frozen=True)
class Source:
    type: str
    name: str
    settings: Mapping[str, Any]
    file: str

    @property
    def ref(self) -> str:
        return f"source.{self.type}.{self.name}"


@dataclass(frozen=True)
class Build:
    name: str
    sources: tuple[str, ...]
    provisioners: tuple[str, ...]
    post_processors: tuple[str, ...]  # every post-processor, chains flattened, in order
    file: str


@dataclass(frozen=True)
class TemplateDir:
    path: Path
    files: tuple[str, ...]  # the *.pkr.hcl files packer loads, sorted
    var_files: tuple[str, ...]  # *.auto.pkrvars.hcl packer loads by itself
    variables: Mapping[str, Any]  # name -> default (None when required)
    sources: tuple[Source, ...]
    builds: tuple[Build, ...]
    unsupported: tuple[str, ...] = field(default=())  # one line per shape packerpy cannot run

    @property
    def has_manifest(self) -> bool:
        return any("manifest" in b.post_processors for b in self.builds)

    def role_variables(self, mapping: Mapping[str, str]) -> dict[str, str]:
        """role -> the declared variable that receives it: by name, or through adopt.vars."""
        found = {name: name for name in ROLES if name in self.variables}
        for variable, role in mapping.items():
            found[role] = variable
        return found


def _blocks(parsed: Mapping[str, Any], key: str) -> Iterator[tuple[str, Any]]:
    for block in parsed.get(key, []):
        for label, body in block.items():
            if label != "__is_block__":
                yield _label(label), body


def _parse(path: Path) -> dict[str, Any]:
    import hcl2  # noqa: PLC0415 - 0.1 s import, only adopt and adopted builds read HCL

    try:
        with path.open(encoding="utf-8") as handle:
            parsed: dict[str, Any] = hcl2.load(handle)
    except OSError as exc:
        raise ConfigError(f"{display_path(path)}: cannot read it ({exc.strerror})") from None
    except Exception as exc:  # noqa: BLE001 - python-hcl2 raises lark errors of many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TemplateError(
            f"{display_path(path)}: not HCL2 python-hcl2 can read: {first}"
        ) from None
    return parsed


def _post_processors(body: Mapping[str, Any]) -> list[str]:
    names = [name for name, _ in _blocks(body, "post-processor")]
    for chain in body.get("post-processors", []):
        names += [name for name, _ in _blocks(chain, "post-processor")]
    return names


def read(path: Path) -> TemplateDir:
    """Every *.pkr.hcl of `path` (packer's own rule for a directory) as one TemplateDir."""
    if not path.is_dir():
        raise ConfigError(f"{display_path(path)}: not a directory of *.pkr.hcl files")
    files = sorted(p.name for p in path.glob("*.pkr.hcl"))
    unsupported: list[str] = []
    if not files:
        legacy = sorted(p.name for p in path.glob("*.json"))
        hint = f" ({legacy[0]} is JSON: run `packer hcl2_upgrade` first)" if legacy else ""
        raise ConfigError(f"{display_path(path)}: no *.pkr.hcl file{hint}")
    variables: dict[str, Any] = {}
    sources: list[Source] = []
    builds: list[Build] = []
    for file in files:
        parsed = _parse(path / file)
        for name, body in _blocks(parsed, "variable"):
            variables[name] = value(body).get("default")
        for kind, named in _blocks(parsed, "source"):
            for name, body in named.items():
                sources.append(Source(kind, _label(name), value(body), file))
        for index, body in enumerate(parsed.get("build", [])):
            settings = value({k: v for k, v in body.items() if isinstance(v, str | list)})
            builds.append(
                Build(
                    name=str(settings.get("name") or f"build #{index + 1} in {file}"),
                    sources=tuple(str(s) for s in settings.get("sources", [])),
                    provisioners=tuple(name for name, _ in _blocks(body, "provisioner")),
                    post_processors=tuple(_post_processors(body)),
                    file=file,
                )
            )
    if not any(s.type in AMAZON_SOURCES for s in sources):
        kinds = ", ".join(sorted({s.type for s in sources})) or "none"
        unsupported.append(f"no amazon-ebs source (found: {kinds}); packerpy versions AMIs")
    if not builds:
        unsupported.append("no build block: packer would build nothing")
    return TemplateDir(
        path=path,
        files=tuple(files),
        var_files=tuple(sorted(p.name for p in path.glob("*.auto.pkrvars.hcl"))),
        variables=variables,
        sources=tuple(sources),
        builds=tuple(builds),
        unsupported=tuple(unsupported),
    )
