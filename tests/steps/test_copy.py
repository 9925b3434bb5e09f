"""Copy: plans a copy per missing region, adopts an earlier copy, and its waits are cancellable."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest

from packerpy.aws.images import wait_available
from packerpy.aws.operation import Outcome
from packerpy.errors import EXIT_AWS, AwsError, Cancelled
from packerpy.steps.copy import CopyStep
from packerpy.steps.identity import IdentityMismatch
from packerpy.steps.protocol import BuiltImage, desired_tags
from tests.helpers import ec2
from tests.steps.amis import clients, context, image_config, make_ami, tags_of

TAGS = {"packerpy:project": "packerpy", "packerpy:image": "web", "packerpy:version": "1.2.3"}


@pytest.fixture
def built(aws: str) -> BuiltImage:
    ami, _ = make_ami(aws, "us-east-1", name="web-1.2.3")
    ec2(aws).create_tags(Resources=[ami], Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()])
    return BuiltImage(
        image="web",
        version="1.2.3",
        amis={"us-east-1": ami},
        config=image_config(),
        regions=("us-east-1", "eu-west-1"),
    )


def named(endpoint: str, region: str, name: str) -> list[str]:
    found = ec2(endpoint, region).describe_images(
        Owners=["self"], Filters=[{"Name": "name", "Values": [name]}]
    )["Images"]
    return [image["ImageId"] for image in found]


def test_copy_dry_run_plans_one_copy_per_missing_region(aws: str, built: BuiltImage) -> None:
    ctx = context(aws, built, dry_run=True)
    result = CopyStep().run(ctx)
    source = built.amis["us-east-1"]
    assert [(a.region, a.verb, a.resources, a.mutating) for a in result.plan] == [
        ("eu-west-1", "copy", (source,), True)
    ]
    assert result.plan[0].payload["SourceRegion"] == "us-east-1"
    assert result.actions == (f"eu-west-1: copy {source} from us-east-1",)
    assert not result.changed and ctx.aws.log.mutating == []
    assert named(aws, "eu-west-1", "web-1.2.3") == []


def test_copy_tags_the_copy_then_a_rerun_adopts_it(aws: str, built: BuiltImage) -> None:
    first = context(aws, built)
    result = CopyStep().run(first)
    copy = result.amis["eu-west-1"] if result.amis else ""
    assert result.changed and copy.startswith("ami-")
    assert result.actions == (
        f"eu-west-1: copy {built.amis['us-east-1']} from us-east-1 -> {copy}",
    )
    # Tagged by CopyImage itself (fidelity review 7): no separate CreateTags.
    assert first.aws.log.mutating == [("eu-west-1", "CopyImage")]
    assert tags_of(aws, "eu-west-1", copy) == desired_tags(built)

    # As after a publish killed before it recorded the copy: the region looks missing again.
    again = context(aws, built)
    adopted = CopyStep().run(again)
    assert [(a.verb, a.resources, a.mutating) for a in adopted.plan] == [("adopt", (copy,), False)]
    assert adopted.amis == {**built.amis, "eu-west-1": copy}
    assert again.aws.log.mutating == []
    assert named(aws, "eu-west-1", "web-1.2.3") == [copy]  # no duplicate


def test_a_cancelled_copy_starts_nothing(aws: str, built: BuiltImage) -> None:
    ctx = context(aws, built)
    ctx.cancel.set()
    with pytest.raises(Cancelled) as info:
        CopyStep().run(ctx)
    outcome = info.value.outcome
    assert isinstance(outcome, Outcome)
    assert [a.verb for a in outcome.not_started] == ["copy"] and outcome.done == ()
    assert ctx.aws.log.mutating == []


def test_the_wait_for_a_copy_stops_when_cancelled(aws: str, built: BuiltImage) -> None:
    ctx = context(aws, built)
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    # An id moto does not know polls as "not there yet" until the token is set.
    with pytest.raises(Cancelled, match="stopped waiting for ami-12345678"):
        wait_available(ctx.aws, "eu-west-1", "ami-12345678", cancel, delay=0.05, attempts=1000)
    assert ctx.aws.log.mutating == []


def _earlier_copy(endpoint: str, built: BuiltImage, tags: dict[str, str]) -> str:
    """An AMI named like the copy in eu-west-1, made by someone, carrying `tags`."""
    ami, _ = make_ami(endpoint, "eu-west-1", name="web-1.2.3")
    pairs = [{"Key": k, "Value": v} for k, v in tags.items()]
    if pairs:
        ec2(endpoint, "eu-west-1").create_tags(Resources=[ami], Tags=pairs)
    return ami


@pytest.mark.parametrize(
    ("tags", "shown"),
    [
        ({**TAGS, "packerpy:image": "api"}, "packerpy:image=api"),
        ({**TAGS, "packerpy:project": "other"}, "packerpy:project=other"),
        ({**TAGS, "packerpy:version": "1.2.4"}, "packerpy:version=1.2.4"),
        ({}, "no packerpy identity tags"),
    ],
)
def test_r4_5_copy_never_adopts_an_ami_of_another_image_with_the_same_name(
    aws: str, built: BuiltImage, tags: dict[str, str], shown: str
) -> None:
    """Review 4.5: the copy step adopted webx's AMI for apix because the names matched."""
    other = _earlier_copy(aws, built, tags)
    ctx = context(aws, built)
    with pytest.raises(IdentityMismatch) as info:
        CopyStep().run(ctx)
    assert info.value.exit_code == EXIT_AWS
    message = info.value.message
    assert message.startswith(f"aws eu-west-1: refusing to adopt {other} (web-1.2.3): ")
    assert shown in message
    assert ctx.aws.log.mutating == []
    assert tags_of(aws, "eu-west-1", other) == tags  # untouched


def test_r4_5_copy_never_adopts_a_copy_of_another_source(aws: str, built: BuiltImage) -> None:
    # Another AMI of the same name (e.g. a re-bake after the first was deregistered).
    elsewhere, _ = make_ami(aws, "us-east-1", name="web-1.2.3")
    first = CopyStep().run(context(aws, dataclasses.replace(built, amis={"us-east-1": elsewhere})))
    copy = (first.amis or {})["eu-west-1"]
    with pytest.raises(IdentityMismatch, match=f"it was copied from {elsewhere}, this version's"):
        CopyStep().run(context(aws, built))
    assert named(aws, "eu-west-1", "web-1.2.3") == [copy]


def test_f7_copy_image_carries_tags_for_image_and_snapshot(aws: str, built: BuiltImage) -> None:
    ctx = context(aws, built)
    result = CopyStep().run(ctx)
    specs = result.plan[0].payload["TagSpecifications"]
    want = [{"Key": k, "Value": v} for k, v in desired_tags(built).items()]
    assert specs == [
        {"ResourceType": "image", "Tags": want},
        {"ResourceType": "snapshot", "Tags": want},
    ]
    copy = (result.amis or {})["eu-west-1"]
    image = ec2(aws, "eu-west-1").describe_images(ImageIds=[copy])["Images"][0]
    snapshot = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    assert tags_of(aws, "eu-west-1", snapshot) == desired_tags(built)
    # The wait asks whether the copy exists (ImageExists retries NotFound) before polling.
    reads = [op for region, op in ctx.aws.log.calls if region == "eu-west-1"]
    assert reads[-2:] == ["DescribeImages", "DescribeImages"]


def test_f8_client_token_covers_source_ami_and_key(aws: str, built: BuiltImage) -> None:
    def token(b: BuiltImage) -> str:
        return str(CopyStep().plan(context(aws, b, dry_run=True)).actions[0].payload["ClientToken"])

    other_source, _ = make_ami(aws, "us-east-1", name="web-1.2.3-b")
    keyed = image_config(encrypt=True, kms_key_ids={"eu-west-1": KEY_B})
    tokens = {
        token(built),
        token(dataclasses.replace(built, amis={"us-east-1": other_source})),
        token(dataclasses.replace(built, config=keyed)),
        token(dataclasses.replace(built, config=image_config(encrypt=True))),
    }
    assert len(tokens) == 4
    assert token(built) == token(built)  # and the same request keeps its token


KEY_B = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-00000000000b"


def test_f8_failed_copy_is_reported_deregistered_and_copied_again(
    aws: str, built: BuiltImage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS checks CopyImage's KMS key only later: the copy "can appear to complete, but
    eventually fails" (botocore's CopyImage KmsKeyId doc). The sandbox models that for a key
    that is disabled."""
    monkeypatch.setattr(CopyStep, "wait_delay", 0.01)
    kms = boto3_kms(aws)
    made = kms.create_key()["KeyMetadata"]
    key = made["Arn"]
    kms.disable_key(KeyId=made["KeyId"])  # moto's DisableKey takes a key id, not an ARN
    keyed = dataclasses.replace(
        built, config=image_config(encrypt=True, kms_key_ids={"eu-west-1": key})
    )
    with pytest.raises(AwsError, match=r"it is failed \(Client\.InvalidKMSKey\.InvalidState: "):
        CopyStep().run(context(aws, keyed))
    (failed,) = named(aws, "eu-west-1", "web-1.2.3")

    kms.enable_key(KeyId=made["KeyId"])
    ctx = context(aws, keyed)
    result = CopyStep().run(ctx)
    assert [a.verb for a in result.plan] == ["deregister", "copy"]
    assert "(failed copy: Client.InvalidKMSKey.InvalidState: " in result.actions[0]
    copy = (result.amis or {})["eu-west-1"]
    assert named(aws, "eu-west-1", "web-1.2.3") == [copy] and copy != failed
    ebs = ec2(aws, "eu-west-1").describe_images(ImageIds=[copy])["Images"][0]
    assert ebs["BlockDeviceMappings"][0]["Ebs"]["KmsKeyId"] == key

    # A re-run adopts it: same source, same key, available.
    again = CopyStep().run(context(aws, keyed))
    assert [(a.verb, a.resources) for a in again.plan] == [("adopt", (copy,))]


def test_f8_an_earlier_copy_with_another_key_is_not_adopted(aws: str, built: BuiltImage) -> None:
    kms = boto3_kms(aws)
    first, second = (kms.create_key()["KeyMetadata"]["Arn"] for _ in range(2))
    with_key = [
        dataclasses.replace(built, config=image_config(encrypt=True, kms_key_ids={"eu-west-1": k}))
        for k in (first, second)
    ]
    CopyStep().run(context(aws, with_key[0]))
    with pytest.raises(IdentityMismatch, match=f"it is encrypted with {first}, the config asks"):
        CopyStep().run(context(aws, with_key[1]))
    with pytest.raises(IdentityMismatch, match="it is encrypted and the config says encrypt = "):
        CopyStep().run(context(aws, built))


def boto3_kms(endpoint: str) -> Any:
    return clients(endpoint).client("kms", "eu-west-1")


def test_f9_copy_waits_as_long_as_ami_wait_minutes(
    aws: str, built: BuiltImage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # packer's aws_polling and the copy step share one budget ([aws] ami_wait_minutes): packer's
    # own default (30 min) fails large cross-region encrypted copies (fidelity review 9).
    seen: list[tuple[float, int]] = []

    def record(*_args: Any, delay: float, attempts: int) -> None:
        seen.append((delay, attempts))

    monkeypatch.setattr("packerpy.steps.copy.wait_available", record)
    aws_clients = clients(aws)
    settings = dataclasses.replace(aws_clients.settings, ami_wait_minutes=90)
    ctx = dataclasses.replace(context(aws, built), aws=type(aws_clients)(settings))
    CopyStep().run(ctx)
    assert [attempts * delay for delay, attempts in seen] == [90 * 60]
