"""One version is one AMI: a build claims its version in AWS before packer starts.

Reliability review 4.3: two `build`s of one version both baked, because nothing stood between
the "is it published?" look-up and the bake. A local lock cannot help (CI runners are separate
machines), so the claim is a conditional write AWS itself enforces: SSM PutParameter with
`Overwrite=False` of `/packerpy/<project>/<image>/versions/<version>` in the build region
fails with `ParameterAlreadyExists` for everyone but the first caller
(https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html).

Life of a claim:
- taken before the bake (a skipped bake, which reuses an AMI, takes none);
- the loser stops with VersionExistsError (exit 9) naming the holder, before packer starts;
- after packer succeeds the owner records the AMI ids in it (overwrite by its owner), and keeps it;
- when the bake fails or is interrupted the owner deletes it, so a retry can bake;
- a claim that recorded no AMI can be taken over when its run is gone: on the same host when
  its process no longer exists, on any host when it is older than STALE_AFTER. Two takers race
  fairly: each overwrites, then reads the parameter's history, and the first write after the
  stale one wins.

The version in the name drops SemVer build metadata: `1.0.0+rebuild` is the same version as
`1.0.0` (review 4.4), and SSM names may not contain '+'.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from packerpy import versions
from packerpy.aws.clients import AwsClients, translated
from packerpy.errors import AwsError, VersionExistsError

ROOT = "/packerpy"
# Longer than any bake packerpy waits for (packer's AMI wait is capped at an hour per region,
# the copy step's at an hour): a claim this old with no AMI belongs to a run that is gone.
STALE_AFTER = timedelta(hours=6)


def parameter_name(project: str, image: str, version: str) -> str:
    """`/packerpy/<project>/<image>/versions/<version>`, build metadata dropped."""
    plain = versions.parse(version).replace(build=None)
    return f"{ROOT}/{project}/{image}/versions/{plain}"


@dataclass(frozen=True)
class Holder:
    """Who holds a claim: what the parameter's value says."""

    run: str
    host: str
    pid: int
    fingerprint: str
    started: str
    amis: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Holder:
        try:
            data = json.loads(text)
            return cls(
                run=str(data["run"]),
                host=str(data["host"]),
                pid=int(data["pid"]),
                fingerprint=str(data.get("fingerprint", "")),
                started=str(data["started"]),
                amis={str(k): str(v) for k, v in dict(data.get("amis", {})).items()},
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            # Written by hand or by something else: treat as held, never as ours.
            return cls(run="unknown", host="unknown", pid=0, fingerprint="", started="")

    def describe(self) -> str:
        amis = ", ".join(f"{r}={a}" for r, a in self.amis.items())
        made = f", made {amis}" if amis else ", no AMI yet"
        return f"run {self.run} on {self.host} (pid {self.pid}, started {self.started}{made})"

    def gone(self, now: datetime) -> bool:
        """True when the run that wrote this claim can no longer be baking (see module doc)."""
        if self.amis:
            return False
        try:
            started = datetime.fromisoformat(self.started)
        except ValueError:
            return False
        if now - started > STALE_AFTER:
            return True
        return self.host == socket.gethostname() and self.pid > 0 and not _alive(self.pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


@dataclass
class Claim:
    """A version this run holds; `record` and `release` change only a claim it still owns."""

    aws: AwsClients
    region: str
    name: str
    holder: Holder

    def record(self, amis: dict[str, str]) -> None:
        """Keep the claim, now naming the AMIs the bake made."""
        self.holder = dataclasses.replace(self.holder, amis=dict(amis))
        with translated(f"record {self.name}", self.region):
            self._ssm().put_parameter(
                Name=self.name, Value=self.holder.to_json(), Type="String", Overwrite=True
            )

    def release(self) -> None:
        """Delete the claim (the bake failed) unless another run has taken it over since."""
        current = _read(self._ssm(), self.name, self.region)
        if current is None or current[0].run != self.holder.run:
            return
        with translated(f"release {self.name}", self.region):
            try:
                self._ssm().delete_parameter(Name=self.name)
            except self._ssm().exceptions.ParameterNotFound:
                return

    def _ssm(self) -> Any:  # noqa: ANN401 - boto3 clients are dynamic
        return self.aws.ssm(self.region)


def _read(ssm: Any, name: str, region: str) -> tuple[Holder, int] | None:  # noqa: ANN401
    with translated(f"read {name}", region):
        try:
            found = ssm.get_parameter(Name=name)["Parameter"]
        except ssm.exceptions.ParameterNotFound:
            return None
    return Holder.from_json(found["Value"]), int(found["Version"])


def take(
    aws: AwsClients, region: str, name: str, holder: Holder, *, what: str, now: datetime
) -> Claim:
    """Claim `name` for `holder`, or raise VersionExistsError naming who holds it.

    `what` starts the error ("packerpy.toml: images.web.version: 1.2.3").
    """
    ssm = aws.ssm(region)
    with translated(f"claim {name}", region):
        try:
            ssm.put_parameter(Name=name, Value=holder.to_json(), Type="String", Overwrite=False)
            return Claim(aws, region, name, holder)
        except ssm.exceptions.ParameterAlreadyExists:
            pass
    current = _read(ssm, name, region)
    if current is None:  # released between our write and our read: try once more
        return take(aws, region, name, holder, what=what, now=now)
    other, version = current
    if other.gone(now) and _take_over(ssm, region, name, holder, version):
        return Claim(aws, region, name, holder)
    raise VersionExistsError(
        f"{what} is claimed by {other.describe()} ({name} in {region}); "
        "one version is one AMI: wait for that run, or bump the version"
    )


def _take_over(ssm: Any, region: str, name: str, holder: Holder, stale: int) -> bool:  # noqa: ANN401
    """Overwrite a stale claim; the first write after version `stale` wins."""
    with translated(f"take over {name}", region):
        ssm.put_parameter(Name=name, Value=holder.to_json(), Type="String", Overwrite=True)
        history: list[dict[str, Any]] = []
        for page in ssm.get_paginator("get_parameter_history").paginate(Name=name):
            history.extend(page["Parameters"])
    after = sorted((h for h in history if int(h["Version"]) > stale), key=lambda h: h["Version"])
    if not after:
        raise AwsError(f"aws {region}: {name}: the claim's history lost the takeover write")
    return Holder.from_json(after[0]["Value"]).run == holder.run


def holder_now(run: str, fingerprint: str, now: datetime) -> Holder:
    """The claim value for this process."""
    return Holder(
        run=run,
        host=socket.gethostname(),
        pid=os.getpid(),
        fingerprint=fingerprint,
        started=now.astimezone(UTC).isoformat(timespec="seconds"),
    )
