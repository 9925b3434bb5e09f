"""bake/claim.py against moto: one claim per version, kept, released or taken over.

The rule is AWS's: PutParameter without Overwrite fails with ParameterAlreadyExists when the
name exists (SSM API reference, PutParameter, "Overwrite ... Default: false"). moto enforces
it too (checked: a second PutParameter with Overwrite=False raises ParameterAlreadyExists).
"""

from __future__ import annotations

import dataclasses
import os
import socket
from datetime import UTC, datetime, timedelta

import pytest

from packerpy.aws.clients import AwsClients
from packerpy.bake import claim
from packerpy.errors import EXIT_VERSION_EXISTS, VersionExistsError
from tests.helpers import settings_for

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
NAME = claim.parameter_name("acme", "web", "1.2.3")


def holder(run: str, *, pid: int | None = None, started: datetime = NOW) -> claim.Holder:
    made = claim.holder_now(run, "f" * 64, started)
    return dataclasses.replace(made, pid=os.getpid() if pid is None else pid)


def take(aws: AwsClients, who: claim.Holder, now: datetime = NOW) -> claim.Claim:
    return claim.take(aws, "us-east-1", NAME, who, what="images.web.version: 1.2.3", now=now)


def value(aws: AwsClients) -> claim.Holder:
    found = aws.ssm("us-east-1").get_parameter(Name=NAME)["Parameter"]
    return claim.Holder.from_json(found["Value"])


def test_r4_4_the_claim_name_ignores_build_metadata() -> None:
    assert claim.parameter_name("acme", "web", "1.0.0+rebuild") == (
        "/packerpy/acme/web/versions/1.0.0"
    )
    assert (
        claim.parameter_name("acme", "web", "1.0.0-rc.1")
        == "/packerpy/acme/web/versions/1.0.0-rc.1"
    )


def test_r4_3_the_second_claim_of_a_version_exits_9_naming_the_holder(aws: str) -> None:
    clients = AwsClients(settings_for(aws))
    take(clients, holder("run-a"))
    with pytest.raises(VersionExistsError) as info:
        take(clients, holder("run-b"))
    assert info.value.exit_code == EXIT_VERSION_EXISTS
    assert info.value.message.startswith(
        f"images.web.version: 1.2.3 is claimed by run run-a on {socket.gethostname()} (pid "
    )
    assert f"({NAME} in us-east-1)" in info.value.message
    assert value(clients).run == "run-a"


def test_a_bake_keeps_the_claim_with_its_amis_and_a_failure_releases_it(aws: str) -> None:
    clients = AwsClients(settings_for(aws))
    held = take(clients, holder("run-a"))
    held.record({"us-east-1": "ami-12345678"})
    assert value(clients).amis == {"us-east-1": "ami-12345678"}
    # A claim with an AMI is never stale, even from a process that is gone.
    with pytest.raises(VersionExistsError, match="made us-east-1=ami-12345678"):
        take(clients, holder("run-b"), now=NOW + timedelta(days=30))

    other = claim.parameter_name("acme", "web", "1.2.4")
    failed = claim.take(clients, "us-east-1", other, holder("run-c"), what="x", now=NOW)
    failed.release()
    retry = claim.take(clients, "us-east-1", other, holder("run-d"), what="x", now=NOW)
    assert retry.holder.run == "run-d"


def test_release_leaves_a_claim_another_run_took_over(aws: str) -> None:
    clients = AwsClients(settings_for(aws))
    mine = take(clients, holder("run-a"))
    clients.ssm("us-east-1").put_parameter(
        Name=NAME, Value=holder("run-b").to_json(), Type="String", Overwrite=True
    )
    mine.release()
    assert value(clients).run == "run-b"


def test_a_claim_of_a_dead_process_on_this_host_is_taken_over(aws: str) -> None:
    clients = AwsClients(settings_for(aws))
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    take(clients, holder("run-a", pid=dead))
    assert take(clients, holder("run-b")).holder.run == "run-b"
    assert value(clients).run == "run-b"


def test_a_claim_older_than_the_staleness_window_is_taken_over(aws: str) -> None:
    clients = AwsClients(settings_for(aws))
    take(clients, holder("run-a"))  # this process: alive
    with pytest.raises(VersionExistsError):
        take(clients, holder("run-b"), now=NOW + claim.STALE_AFTER - timedelta(minutes=1))
    later = NOW + claim.STALE_AFTER + timedelta(minutes=1)
    assert take(clients, holder("run-c", started=later), now=later).holder.run == "run-c"


def test_of_two_takeovers_the_first_write_wins(aws: str) -> None:
    clients = AwsClients(settings_for(aws))
    ssm = clients.ssm("us-east-1")
    take(clients, holder("run-a", pid=2**22 + 1))
    stale = ssm.get_parameter(Name=NAME)["Parameter"]["Version"]
    # run-b overwrote first; run-c, which read the same stale version, overwrites second.
    ssm.put_parameter(Name=NAME, Value=holder("run-b").to_json(), Type="String", Overwrite=True)
    assert not claim._take_over(ssm, "us-east-1", NAME, holder("run-c"), stale)
