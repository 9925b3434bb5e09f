"""Which steps exist: the built-ins, then plugins under the `packerpy.steps` entry-point group.

Third-party steps register under the entry-point group:

    [project.entry-points."packerpy.steps"]
    notify = "mypkg.steps:NotifyStep"
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import EntryPoint, entry_points

from packerpy.errors import ConfigError
from packerpy.steps.copy import CopyStep
from packerpy.steps.deprecate import DeprecateStep
from packerpy.steps.protocol import Step
from packerpy.steps.share import ShareStep
from packerpy.steps.tag import TagStep

ENTRY_POINT_GROUP = "packerpy.steps"


def _builtin() -> dict[str, type[Step]]:
    return {step.name: step for step in (CopyStep, ShareStep, TagStep, DeprecateStep)}


def _plugins() -> dict[str, EntryPoint]:
    """Installed plugin entry points by name, not loaded: a broken plugin that no image uses
    must not break every command."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def known_names() -> list[str]:
    """Every step name a config may use: built-ins and installed plugins."""
    return sorted({*_plugins(), *_builtin()})


def _load(name: str, plugin: EntryPoint, where: str) -> object:
    try:
        return plugin.load()
    except Exception as exc:  # noqa: BLE001 - any failure importing third-party code
        raise ConfigError(
            f"{where}: step plugin {name!r} ({plugin.value}) failed to load: "
            f"{type(exc).__name__}: {exc}"
        ) from None


def resolve(names: Sequence[str], *, where: str) -> list[Step]:
    """Instantiate the configured steps in order, loading only the plugins they name.

    Built-ins win over a plugin of the same name. An unknown name, a plugin that fails to
    import, or one that does not implement the protocol is a ConfigError.
    """
    builtin = _builtin()
    plugins = _plugins()
    steps: list[Step] = []
    for index, name in enumerate(names):
        at = f"{where}[{index}]"
        if name in builtin:
            factory: object = builtin[name]
        elif name in plugins:
            factory = _load(name, plugins[name], at)
        else:
            raise ConfigError(
                f"{at}: {name!r} is not a known step (known: {', '.join(known_names())})"
            )
        step = factory() if callable(factory) else factory
        if not isinstance(step, Step):
            raise ConfigError(f"{at}: {name!r} does not implement the step protocol")
        steps.append(step)
    return steps
