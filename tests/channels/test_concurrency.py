"""Two writers of one channel: one winner, one Conflict, and the winner's value stands."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from packerpy.channels import common, promote
from packerpy.errors import Conflict
from tests.channels.estate import history, parameter, project, publish, ssm, value
from tests.channels.test_promote import run
from tests.steps.amis import clients


def test_ssm_has_no_compare_and_swap_so_a_write_after_another_is_a_conflict(aws: str) -> None:
    """PutParameter has no expected-version condition (SSM API reference): the version it
    returns is the check. Planned from version 1, a write that lands as version 3 lost."""
    client = ssm(aws, "us-east-1")
    name = parameter("dev")
    client.put_parameter(Name=name, Value="ami-11111111", Type="String", DataType="aws:ec2:image")
    client.put_parameter(
        Name=name, Value="ami-22222222", Type="String", DataType="aws:ec2:image", Overwrite=True
    )
    with pytest.raises(Conflict) as err:
        common.write(clients(aws), "us-east-1", name, "ami-33333333", "v1.0.0", before=1)
    assert str(err.value) == (
        f"aws us-east-1: {name} was changed by another writer while this one wrote it "
        "(planned from version 1, wrote version 3); check `packerpy channels` and run again"
    )
    # The losing write is put back: the other writer's value stands, as version 4.
    assert [h["Value"] for h in history(aws, "us-east-1", "dev")] == [
        "ami-11111111",
        "ami-22222222",
        "ami-33333333",
        "ami-22222222",
    ]


def test_two_concurrent_promotions_give_one_winner_and_one_conflict(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    web = project(tmp_path, regions=["us-east-1"])
    first, second = publish(aws, "1.0.0", ["us-east-1"]), publish(aws, "1.1.0", ["us-east-1"])
    # Both plan from the same (unset) parameter before either writes: the race, made certain.
    planned = threading.Barrier(2, timeout=30)
    real = common.write

    def racing(*args: object) -> int:
        planned.wait()
        return real(*args)  # type: ignore[arg-type] - passed through unchanged

    monkeypatch.setattr(common, "write", racing)
    results: dict[str, object] = {}

    def promote_one(version: str) -> None:
        try:
            results[version] = run(aws, web, version, "dev")
        except Conflict as exc:
            results[version] = exc

    threads = [threading.Thread(target=promote_one, args=(v,)) for v in ("1.0.0", "1.1.0")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    winners = [v for v, r in results.items() if isinstance(r, promote.PromoteResult)]
    losers = [v for v, r in results.items() if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1
    amis = {"1.0.0": first["us-east-1"], "1.1.0": second["us-east-1"]}
    assert value(aws, "us-east-1", "dev") == amis[winners[0]]
    assert f"{parameter('dev')} was changed by another writer" in str(results[losers[0]])
    labels = [h.get("Labels", []) for h in history(aws, "us-east-1", "dev")]
    assert labels[0] == [f"v{winners[0]}"]  # only the winner labels its version
