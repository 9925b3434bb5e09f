from __future__ import annotations

import pytest

from packerpy.packer.events import (
    ArtifactEvent,
    ErrorEvent,
    OtherEvent,
    RawLine,
    UiEvent,
    error_text,
    parse_line,
)


@pytest.mark.parametrize(
    ("line", "event"),
    [
        (
            "1795698038,,ui,say,==> web.amazon-ebs.app: No volumes to clean up%!(PACKER_COMMA) skipping",
            UiEvent("", "say", "==> web.amazon-ebs.app: No volumes to clean up, skipping"),
        ),
        (
            "1795698038,,ui,error,Error: Invalid expression\\n\\n  on bad.pkr.hcl line 2",
            UiEvent("", "error", "Error: Invalid expression\n\n  on bad.pkr.hcl line 2"),
        ),
        (
            "1795698038,web.amazon-ebs.app,artifact,0,id,us-east-1:ami-1%!(PACKER_COMMA)us-west-2:ami-2",
            ArtifactEvent("web.amazon-ebs.app", 0, "id", ("us-east-1:ami-1,us-west-2:ami-2",)),
        ),
        (
            "1795698038,web.amazon-ebs.app,artifact,1,end",
            ArtifactEvent("web.amazon-ebs.app", 1, "end", ()),
        ),
        ("1795698038,,error-count,1", OtherEvent("", "error-count", ("1",))),
        ("1795698038,web.amazon-ebs.app,error,boom", ErrorEvent("web.amazon-ebs.app", "boom")),
        ("panic: runtime error", RawLine("panic: runtime error")),
        ("", RawLine("")),
    ],
)
def test_parse_line(line: str, event: object) -> None:
    assert parse_line(line) == event


def test_error_text_only_for_errors() -> None:
    assert error_text(UiEvent("", "error", "x")) == "x"
    assert error_text(ErrorEvent("t", "y")) == "y"
    assert error_text(UiEvent("", "say", "x")) is None
    assert error_text(RawLine("Error: x")) is None
