"""The sandbox's serializer shortcut (sandbox/moto_serializer.py): moto's answer, to the byte."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from moto.core.responses import ActionContext, ActionResult
from moto.core.serialize import XFormedAttributePicker, get_serializer_class
from moto.core.utils import get_service_model
from moto.ec2.models import ec2_backends

from packerpy.sandbox import moto_serializer

ACCOUNT = "123456789012"


class Region:
    """An object that names one member through Meta.serialization_aliases (as moto's Stack)."""

    class Meta:
        serialization_aliases: ClassVar[dict[str, str]] = {"RegionName": "called"}

    def __init__(self, called: str, endpoint: str) -> None:
        self.called, self.endpoint, self.opt_in_status = called, endpoint, "opt-in-not-required"


def body(service: str, operation: str, result: dict[str, Any]) -> str:
    model = get_service_model(service)
    context = ActionContext(
        model,
        model.operation_model(operation),
        get_serializer_class(service, model.protocol),
        None,
    )
    found: str = ActionResult(result).execute_result(context)[2]
    return found


def answers() -> list[str]:
    backend = ec2_backends[ACCOUNT]["us-east-1"]
    images = backend.describe_images(owners=["amazon"])[:20]
    backend.create_tags([images[0].id], {"packerpy:project": "acme", "k": "v"})
    return [
        body("ec2", "DescribeImages", {"Images": images}),
        body("ec2", "DescribeRegions", {"Regions": backend.describe_regions()}),
        body("ec2", "DescribeRegions", {"Regions": [Region("r-1", "e-1"), Region("r-2", "e-2")]}),
        body("ec2", "DescribeImageAttribute", {"ImageId": images[0].id, "LaunchPermissions": []}),
    ]


def test_answers_are_moto_s_to_the_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = answers()
    assert "<regionName>r-1</regionName>" in expected[2]  # the Meta alias was used
    monkeypatch.setattr(XFormedAttributePicker, "get_possible_keys", moto_serializer.possible_keys)
    first, again = answers(), answers()
    assert first == expected
    assert again == expected
    assert moto_serializer.remembered() > 0
