"""Copy the AMI to every configured region that does not hold this version yet.

Before copying, each region is searched for an earlier copy by AMI name (unique per region and
account), so a publish that was killed after CopyImage and run again adopts that copy instead
of making a second one. Copies are encrypted with the region's key when the image is encrypted,
tagged the moment they exist, and waited for with EC2's image_available waiter.
"""

from __future__ import annotations

import hashlib
from typing import ClassVar

from packerpy.aws.clients import translated
from packerpy.errors import AwsError
from packerpy.steps.protocol import StepContext, StepResult, outcome
from packerpy.steps.tag import desired_tags
from packerpy.support.pool import per_region

WAIT_DELAY_SECONDS = 15
WAIT_MAX_ATTEMPTS = 240  # an hour: large AMIs copy slowly across regions


class CopyStep:
    name: ClassVar[str] = "copy"

    def run(self, ctx: StepContext) -> StepResult:
        built = ctx.built
        missing = [r for r in built.regions if r not in built.amis]
        if not missing or not built.amis:
            return outcome(self.name, ctx, [])
        source_region = next((r for r in built.regions if r in built.amis), next(iter(built.amis)))
        source_ami = built.amis[source_region]
        source = ctx.images.get(source_region, source_ami)
        name = source.get("Name") or f"{built.image}-{built.version}"
        tags = [{"Key": k, "Value": v} for k, v in desired_tags(built).items()]
        config = built.config

        def copy_to(region: str) -> tuple[str, str | None, str]:
            ec2 = ctx.aws.ec2(region)
            with translated(f"look for an earlier copy of {name!r}", region):
                found = ec2.describe_images(
                    Owners=["self"], Filters=[{"Name": "name", "Values": [name]}]
                )["Images"]
            if found:
                ami = found[0]["ImageId"]
                return region, ami, f"{region}: adopt earlier copy {ami} of {source_ami}"
            if ctx.dry_run:
                return region, None, f"{region}: copy {source_ami} from {source_region}"
            options: dict[str, object] = {}
            if config.encrypt:
                options["Encrypted"] = True
                if key := config.kms_key_ids.get(region):
                    options["KmsKeyId"] = key
            # Same request, same token: AWS returns the first copy instead of making another.
            token = hashlib.sha256(f"{built.image}/{built.version}/{region}".encode()).hexdigest()
            with translated(f"copy {source_ami} from {source_region}", region):
                ami = ec2.copy_image(
                    SourceImageId=source_ami,
                    SourceRegion=source_region,
                    Name=name,
                    Description=source.get("Description") or name,
                    ClientToken=token[:64],
                    **options,  # type: ignore[arg-type]
                )["ImageId"]
            with translated(f"tag {ami}", region):
                ec2.create_tags(Resources=[ami], Tags=tags)  # type: ignore[arg-type]
            return region, ami, f"{region}: copy {source_ami} from {source_region} -> {ami}"

        done = per_region(missing, copy_to)
        new = {region: ami for region, ami, _ in done if ami is not None}
        if not ctx.dry_run:
            for region, ami in new.items():
                ctx.progress(f"waiting for {ami} in {region}")
            per_region(list(new), lambda region: self._wait(ctx, region, new[region]))
        return outcome(
            self.name, ctx, [action for _, _, action in done], amis={**built.amis, **new}
        )

    @staticmethod
    def _wait(ctx: StepContext, region: str, ami: str) -> None:
        waiter = ctx.aws.ec2(region).get_waiter("image_available")
        with translated(f"wait for {ami}", region):
            try:
                waiter.wait(
                    ImageIds=[ami],
                    WaiterConfig={"Delay": WAIT_DELAY_SECONDS, "MaxAttempts": WAIT_MAX_ATTEMPTS},
                )
            except Exception as exc:  # botocore WaiterError: not a ClientError
                if type(exc).__name__ == "WaiterError":
                    raise AwsError(f"aws {region}: {ami} did not become available: {exc}") from None
                raise
