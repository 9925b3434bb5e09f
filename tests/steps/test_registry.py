from __future__ import annotations

from typing import ClassVar

import pytest

from packerpy.errors import ConfigError
from packerpy.steps import protocol as base
from packerpy.steps import registry
from packerpy.steps.tag import TagStep


class NotifyStep:
    name: ClassVar[str] = "notify"

    def run(self, ctx: base.StepContext) -> base.StepResult:
        return base.StepResult(step=self.name, changed=False)


class FakeEntryPoint:
    def __init__(self, name: str, obj: object) -> None:
        self.name, self.obj = name, obj

    def load(self) -> object:
        return self.obj


def test_registry_loads_entry_points_and_keeps_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [FakeEntryPoint("notify", NotifyStep), FakeEntryPoint("tag", NotifyStep)]
    monkeypatch.setattr(
        registry, "entry_points", lambda group: eps if group == registry.ENTRY_POINT_GROUP else []
    )
    steps = registry.resolve(["tag", "notify"], where="images.web.steps")
    assert [type(s) for s in steps] == [TagStep, NotifyStep]


def test_registry_rejects_unknown_and_non_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "entry_points", lambda group: [FakeEntryPoint("bad", object)])
    with pytest.raises(ConfigError) as info:
        registry.resolve(["tag", "tagg"], where="packerpy.toml: images.web.steps")
    assert info.value.message == (
        "packerpy.toml: images.web.steps[1]: 'tagg' is not a known step (known: bad, copy, deprecate, share, tag)"
    )
    with pytest.raises(
        ConfigError, match=r"steps\[0\]: 'bad' does not implement the step protocol"
    ):
        registry.resolve(["bad"], where="steps")


class BrokenEntryPoint(FakeEntryPoint):
    value = "broken_plugin.steps:Step"

    def load(self) -> object:
        raise ImportError("No module named 'broken_plugin'")


def test_registry_loads_only_the_configured_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    # A broken plugin no image uses must not break a command.
    eps = [BrokenEntryPoint("broken", None), FakeEntryPoint("notify", NotifyStep)]
    monkeypatch.setattr(registry, "entry_points", lambda group: eps)
    assert [type(s) for s in registry.resolve(["tag", "notify"], where="steps")] == [
        TagStep,
        NotifyStep,
    ]
    with pytest.raises(ConfigError) as info:
        registry.resolve(["tag", "broken"], where="packerpy.toml: images.web.steps")
    assert info.value.message == (
        "packerpy.toml: images.web.steps[1]: step plugin 'broken' (broken_plugin.steps:Step) "
        "failed to load: ImportError: No module named 'broken_plugin'"
    )
