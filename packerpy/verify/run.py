"""`packerpy verify IMAGE VERSION`: policy checks per region, the launch test in the build
region, then the verdict tagged on the AMI and its snapshots everywhere, in a run record.

A failed verdict raises VerifyFailed (exit 13) after the tags and result.json are written; a dry
run makes only reads and reports the launch plan and the tags it would write. Nothing prints.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from packerpy import records
from packerpy.aws.clients import AwsClients
from packerpy.aws.images import snapshot_ids
from packerpy.aws.operation import Operation
from packerpy.aws.settings import AwsSettings
from packerpy.config import Project, image_regions
from packerpy.contract import VerifyCheckData, VerifyData
from packerpy.errors import PackerpyError, VerifyFailed
from packerpy.estate import catalog
from packerpy.steps.deprecate import parse_duration
from packerpy.support.pool import per_region
from packerpy.verify import launch, verdict
from packerpy.verify.checks import CheckResult, run_checks
from packerpy.verify.facts import Facts, gather, parse_time
from packerpy.verify.spec import launch_spec
from packerpy.vuln import gate

LAUNCH_CHECK = "launch-test"


def _ignore(_line: str) -> None:
    """The default progress callback: nowhere."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class VerifyOptions:
    skip_launch: bool = False
    dry_run: bool = False
    progress: Callable[[str], None] = _ignore
    now: Callable[[], datetime] = _utc_now
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Launched:
    """The launch test's check, its plan, and what it left to report."""

    check: CheckResult
    plan: tuple[str, ...] = ()
    instance: str | None = None
    output: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerifyResult:
    image: str
    version: str
    amis: dict[str, str]
    verdict: verdict.Verdict
    checks: tuple[CheckResult, ...]
    launched: Launched
    actions: tuple[str, ...]
    run_dir: str
    dry_run: bool
    seconds: float
    calls: int
    mutating: tuple[tuple[str, str], ...]

    def to_data(self) -> VerifyData:
        return VerifyData(
            image=self.image,
            version=self.version,
            amis=dict(self.amis),
            verdict=self.verdict.word,
            reason=self.verdict.reason,
            dry_run=self.dry_run,
            checks=[VerifyCheckData(**c.__dict__) for c in self.checks],
            launch_plan=list(self.launched.plan),
            instance=self.launched.instance,
            output=list(self.launched.output),
            tags=self.verdict.tags(),
            actions=list(self.actions),
            run_dir=self.run_dir,
            seconds=round(self.seconds, 3),
            calls=self.calls,
            mutating=list(self.mutating),
        )


def verify(
    project: Project,
    settings: AwsSettings,
    name: str,
    version: str,
    options: VerifyOptions | None = None,
) -> VerifyResult:
    """Check `name` at `version` against its config and tag the verdict; see the module doc."""
    options = options or VerifyOptions()
    image = project.image(name)
    regions = image_regions(image, settings.region)
    aws = AwsClients(settings)
    start = time.perf_counter()
    fields = {"command": "verify", "image": name, "version": version, "dry_run": options.dry_run}
    with records.RunRecord(project.runs_dir(), name, options.now(), fields) as record:
        found = _version(aws, project, name, version, regions)
        with record.phase("policy"):
            checks = _policy(aws, project, name, found, regions)
        with record.phase("launch"):
            launched = _launch_test(aws, project, name, found, checks, options, record)
        checks += (launched.check,)
        judged = verdict.judge(checks, options.now())
        resources = {
            region: (ami, *snapshot_ids(found.descriptions[region]))
            for region, ami in found.amis.items()
        }
        plan = verdict.tag_actions(aws, resources, judged)
        with record.phase("tag"):
            done = Operation(aws.log, dry_run=options.dry_run, cancel=options.cancel).execute(plan)
        result = VerifyResult(
            image=name,
            version=found.version,
            amis=dict(found.amis),
            verdict=judged,
            checks=checks,
            launched=launched,
            actions=tuple(a.line() for a in (*done.skipped, *(d.action for d in done.done))),
            run_dir=str(record.dir),
            dry_run=options.dry_run,
            seconds=time.perf_counter() - start,
            calls=len(aws.log.calls),
            mutating=tuple(aws.log.mutating),
        )
        data = result.to_data()
        record.note(**data.model_dump(mode="json"))
        if judged.passed or options.dry_run:
            record.succeed(data)
            return result
        raise _failed(result)


def _failed(result: VerifyResult) -> VerifyFailed:
    lines = [c.line() for c in result.checks if not c.ok]
    lines += [f"output: {line}" for line in result.launched.output[-10:]]
    return VerifyFailed(
        f"{result.image} {result.version}: verify failed: {result.verdict.reason}",
        detail=[*lines, f"run record: {result.run_dir}"],
    )


def _version(
    aws: AwsClients, project: Project, name: str, version: str, regions: tuple[str, ...]
) -> catalog.Published:
    """The published version (in any of the image's regions), or an error naming those that are."""
    every = catalog.published(aws, name, regions, project=project.config.project.name)
    for published in every:
        if catalog.same_version(published.version, version):
            return published
    names = ", ".join(p.version for p in every) or "none"
    raise PackerpyError(
        f"{name} {version}: no such version in {', '.join(regions)} (there: {names})"
    )


def _policy(
    aws: AwsClients, project: Project, name: str, found: catalog.Published, regions: tuple[str, ...]
) -> tuple[CheckResult, ...]:
    config = project.image(name)
    deprecate_at = _deprecate_at(config.deprecate_after, found, regions)

    def region_checks(region: str) -> tuple[CheckResult, ...]:
        base = Facts(
            region=region,
            ami=found.amis.get(region),
            project=project.config.project.name,
            name=name,
            version=found.version,
            config=config,
            image=found.descriptions.get(region, {}),
            deprecate_at=deprecate_at,
        )
        return run_checks(gather(aws, base))

    checks = tuple(c for region in per_region(list(regions), region_checks) for c in region)
    return (*checks, _vulnerabilities(aws, project, name, found, regions[0]))


def _vulnerabilities(
    aws: AwsClients, project: Project, name: str, found: catalog.Published, region: str
) -> CheckResult:
    """The offline scan of the version's SBOM (vuln/gate.py), once: the SBOM is the version's,
    whatever the region. Passes when scan.advisories is not configured."""
    tags = {t["Key"]: t["Value"] for t in found.descriptions.get(region, {}).get("Tags", [])}
    ok, reason, _findings = gate.check(project, aws, name, tags or found.tags, region)
    return CheckResult("vulnerabilities", region, ok, reason)


def _deprecate_at(
    after: str | None, found: catalog.Published, regions: tuple[str, ...]
) -> datetime | None:
    """deprecate_after from the creation of the version's AMI in its first region (as the
    deprecate step computes it)."""
    if after is None:
        return None
    first = next((r for r in (*regions, *found.amis) if r in found.descriptions), None)
    created = parse_time(found.descriptions[first].get("CreationDate")) if first else None
    if created is None:
        return None
    return (created + parse_duration(after)).replace(second=0, microsecond=0)


def _launch_test(
    aws: AwsClients,
    project: Project,
    name: str,
    found: catalog.Published,
    checks: tuple[CheckResult, ...],
    options: VerifyOptions,
    record: records.RunRecord,
) -> Launched:
    config = project.image(name)
    region = image_regions(config, aws.settings.region)[0]
    if not config.verify.tests:
        return Launched(CheckResult(LAUNCH_CHECK, region, True, "skipped: no verify.tests"))
    if options.skip_launch:
        return Launched(CheckResult(LAUNCH_CHECK, region, True, "skipped (--skip-launch)"))
    ami = found.amis.get(region)
    if ami is None:
        return Launched(CheckResult(LAUNCH_CHECK, region, False, "not run: no AMI to launch"))
    spec = launch_spec(
        project, name, region=region, ami=ami, version=found.version, run_id=record.run_id
    )
    if any(not c.ok for c in checks):
        why = "not run: a policy check failed"
        return Launched(CheckResult(LAUNCH_CHECK, region, False, why), spec.plan())
    if options.dry_run:
        return Launched(CheckResult(LAUNCH_CHECK, region, True, "planned (dry run)"), spec.plan())
    done = launch.run(
        aws,
        spec,
        work_dir=record.dir,
        progress=options.progress,
        on_start=record.child_started,
        cancel=options.cancel,
    )
    record.note(launch_instance=done.instance_id, launch_terminated=list(done.terminated))
    check = CheckResult(LAUNCH_CHECK, region, done.ok, done.reason)
    return Launched(check, spec.plan(), done.instance_id, done.output)
