"""The sandbox's cheaper dispatch lookups (sandbox/moto_dispatch.py) answer as moto's own."""

from __future__ import annotations

import pytest
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.utils import method_names_from_class
from moto.ec2.responses import EC2Response
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.ssm.responses import SimpleSystemManagerResponse

from packerpy.sandbox import moto_dispatch


class Extended(EC2Response):
    """A response class that gains and loses methods after its first lookup (as moto_ext's)."""


@pytest.mark.parametrize("clazz", [EC2Response, AutoScalingResponse, SimpleSystemManagerResponse])
def test_function_names_match_moto_for_every_name(clazz: type) -> None:
    listed = set(method_names_from_class(clazz))
    names = moto_dispatch.function_names(clazz)
    asked = {*dir(clazz), "no_such_action", "", "describe_instance_refreshes"}
    assert {name for name in asked if name in names} == listed
    assert set(names) == listed


def test_function_names_follow_methods_added_and_removed_later() -> None:
    names = moto_dispatch.function_names(Extended)
    assert "sandbox_only" not in names
    Extended.sandbox_only = lambda self: None  # type: ignore[attr-defined]
    assert "sandbox_only" in names
    del Extended.sandbox_only  # type: ignore[attr-defined]
    assert "sandbox_only" not in names
    Extended.not_a_method = 3  # type: ignore[attr-defined]
    assert "not_a_method" not in names


def test_backend_for_host_is_moto_s_answer_remembered_per_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = DomainDispatcherApplication(create_backend_app)
    hosts = [
        "ec2.us-east-1.amazonaws.com",
        "ec2.eu-west-1.amazonaws.com",
        "autoscaling.us-east-1.amazonaws.com",
        "ssm.us-east-1.amazonaws.com",
        "moto_api",
        "instance_metadata",
        "ec2",
        None,
        "nothing.example.com",
    ]
    expected = {host: app.get_backend_for_host(host) for host in hosts}
    asked: list[str | None] = []
    original = moto_dispatch._MOTO_BACKEND_FOR_HOST

    def counting(self: DomainDispatcherApplication, host: str | None) -> object:
        asked.append(host)
        return original(self, host)

    monkeypatch.setattr(moto_dispatch, "_MOTO_BACKEND_FOR_HOST", counting)
    memoized = moto_dispatch.memoized_backend_for_host()
    for _ in range(3):
        assert {host: memoized(app, host) for host in hosts} == expected
    # Each host with a backend asked once; the ones without are asked every time.
    unknown = [h for h in hosts if expected[h] is None]
    assert sorted(map(str, asked)) == sorted(
        map(str, [h for h in hosts if expected[h] is not None] + unknown * 3)
    )
