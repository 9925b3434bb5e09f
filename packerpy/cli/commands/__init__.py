"""The command table: each command's module, imported only when that command runs.

`packerpy --help` lists the commands from this table alone, so it never imports the core
(pydantic, boto3, jinja2, detect-secrets); a command's module, and the core it uses, load when
the command is resolved (poetry's command loader, done with click's group hooks).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from packerpy.cli import process

# Where the name of the running command ("version show") is kept in click's shared ctx.meta,
# so the error boundary can name it in a failure envelope.
COMMAND_KEY = "packerpy.command"


@dataclass(frozen=True)
class Entry:
    """One command (or group) of the root: the module defining it, and its one-line help."""

    module: str  # under packerpy.cli.commands
    help: str  # the first paragraph of the command's help (a test keeps the two equal)


# In the order `packerpy --help` lists them.
COMMANDS: dict[str, Entry] = {
    "init": Entry(
        "project", "Scaffold packerpy.toml, hcl_templates/ and provisioners/ for a new project."
    ),
    "validate": Entry(
        "check",
        "Check the config and each rendered template (python-hcl2, packer fmt, packer validate).",
    ),
    "render": Entry("check", "Write the HCL2 template and var file packerpy would run for IMAGE."),
    "build": Entry("bake", "Bake IMAGE with packer, then run its post-processing steps."),
    "publish": Entry(
        "publish", "Converge an existing version to the config: copies, shares, tags, deprecation."
    ),
    "adopt": Entry(
        "adopt", "Register a hand-written packer template directory as an image, unchanged."
    ),
    "post-process": Entry(
        "postprocess",
        "Make the AMI of packer's last run the image's configured version, as build would.",
    ),
    "reap": Entry(
        "reap", "Remove builder instances, key pairs and security groups of runs that died."
    ),
    "verify": Entry(
        "verify", "Check a version against policy, launch-test it, and tag the verdict on the AMI."
    ),
    "cleanup": Entry(
        "cleanup", "Delete this project's AMIs that no retention rule keeps, and their snapshots."
    ),
    "outdated": Entry(
        "versions",
        "Images whose base filter now selects a newer AMI than their latest version was built on.",
    ),
    "lint": Entry("check", "Secrets (detect-secrets) and policy findings over the project."),
    "schema": Entry("project", "Print the JSON Schema of packerpy.toml."),
    "sandbox": Entry("sandbox", "A local AWS (moto on 127.0.0.1) for demos and tests."),
    "version": Entry("versions", "Show and bump an image's semantic version."),
    "images": Entry("versions", "Published versions of an image."),
    "report": Entry(
        "report",
        "Every image's versions, regions, channels, verdicts, sizes and ages, and a timeline.",
    ),
    "doctor": Entry(
        "doctor",
        "Check packer, its amazon plugin, shellcheck, git, the config, AWS and the sandbox.",
    ),
    "sbom": Entry("vuln", "Print the SBOM stored with a published version (S3 or its run record)."),
    "scan": Entry(
        "vuln", "Scan a version's SBOM offline against OSV advisories (exit 16 at --fail-on)."
    ),
    "rollout": Entry(
        "rollout",
        "Roll a channel's AMI out to an Auto Scaling group (blue-green or rolling), or abort it.",
    ),
    "compliance": Entry(
        "compliance", "OpenSCAP compliance of a published version, or an offline scan of a root."
    ),
}
# Channels (README "Promotion"): appended as one block.
COMMANDS.update(
    {
        "promote": Entry(
            "channels", "Point a channel at a verified version in every region of the image."
        ),
        "channels": Entry(
            "channels", "Each channel of IMAGE: version and AMI per region, with history."
        ),
        "rollback": Entry(
            "channels", "Move a channel back to its previous value that is not revoked."
        ),
        "revoke": Entry(
            "channels", "Take a version off every channel, deprecate it now and tag it revoked."
        ),
    }
)


def command_of(ctx: Any) -> str:  # noqa: ANN401 - a click context of this invocation, or None
    """The running command's name as envelopes give it ("version show"), else "packerpy"."""
    name = ctx.meta.get(COMMAND_KEY) if ctx is not None else None
    return name if isinstance(name, str) else "packerpy"


def module_app() -> typer.Typer:
    """The typer app a command module registers its commands on (plain click help, as the root)."""
    return typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False, add_completion=False)


def group_app(help_text: str) -> typer.Typer:
    """A command group (`sandbox`, `version`, ...) whose subcommands are named in envelopes."""
    return typer.Typer(
        cls=CommandGroup,
        help=help_text,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=False,
    )


class CommandGroup(TyperGroup):
    """A group that records which subcommand runs in ctx.meta (see COMMAND_KEY)."""

    def resolve_command(
        self,
        ctx: Any,  # noqa: ANN401 - typer's vendored click types are private (typer._click)
        args: list[str],
    ) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None:
            ctx.meta[COMMAND_KEY] = " ".join([*ctx.command_path.split()[1:], name])
        return name, command, rest


def _load(name: str) -> Any:  # noqa: ANN401 - a click command (typer vendors click untyped)
    module = importlib.import_module(f"{__name__}.{COMMANDS[name].module}")
    command = typer.main.get_group(module.app).commands[name]
    process.settled()
    return command


class _Commands(MutableMapping[str, Any]):
    """The root group's commands: every name of COMMANDS, each imported on first lookup."""

    def __init__(self) -> None:
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:  # noqa: ANN401 - a click command
        if name not in self._loaded:
            if name not in COMMANDS:
                raise KeyError(name)
            self._loaded[name] = _load(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:  # noqa: ANN401
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self._loaded]))

    def __len__(self) -> int:
        return len(dict.fromkeys([*COMMANDS, *self._loaded]))


class LazyGroup(CommandGroup):
    """The root group: commands come from COMMANDS and load only when resolved."""

    def __init__(self, **attrs: Any) -> None:  # noqa: ANN401 - click's keyword arguments
        super().__init__(**attrs)
        self.commands = _Commands()

    def list_commands(self, ctx: Any) -> list[str]:  # noqa: ANN401 - see resolve_command
        return list(self.commands)

    def format_commands(self, ctx: Any, formatter: Any) -> None:  # noqa: ANN401 - as above
        # Placeholders carry the help text, so listing the commands imports none of them.
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, TyperCommand(name=name, help=entry.help).get_short_help_str(limit))
            for name, entry in COMMANDS.items()
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
