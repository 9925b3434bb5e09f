"""Sandbox-only Auto Scaling and ELBv2 additions for rollouts (moto 5.2.5 lacks them).

Instance refresh, following the Amazon EC2 Auto Scaling API reference (StartInstanceRefresh,
DescribeInstanceRefreshes, CancelInstanceRefresh) and botocore's autoscaling 2011-01-01 model:
- StartInstanceRefresh(AutoScalingGroupName, Strategy, DesiredConfiguration, Preferences)
  returns InstanceRefreshId. Refused with InstanceRefreshInProgress while one is Pending,
  InProgress, Baking or Cancelling ("the request failed because an active instance refresh
  already exists"); ValidationError for an unknown group, a Strategy other than Rolling or
  ReplaceRootVolume, MinHealthyPercentage outside 0-100, CheckpointPercentages not ascending,
  unique and 1-100, CheckpointDelay outside 0-172800 or given without CheckpointPercentages.
  Defaults as documented: MinHealthyPercentage 90, CheckpointDelay 3600 with checkpoints.
- DescribeInstanceRefreshes(AutoScalingGroupName, InstanceRefreshIds, MaxRecords): newest first.
  The sandbox moves a refresh on at each describe, Pending -> InProgress -> Successful; on
  Successful it applies DesiredConfiguration.LaunchTemplate to the group and replaces its
  instances (as AWS does when a refresh with a desired configuration succeeds).
- CancelInstanceRefresh(AutoScalingGroupName): the active one becomes Cancelled; none active is
  ActiveInstanceRefreshNotFound.
EC2 CreateLaunchTemplateVersion with SourceVersion: moto ignores SourceVersion and stores only
the data given; EC2 starts from the source version's data, and "parameters that you specify in
LaunchTemplateData override the same parameters in the source version" (EC2 API reference).
Test hook (the sandbox only): target groups report `unhealthy` (Target.FailedHealthChecks) for an
instance whose AMI carries the tag `sandbox:unhealthy`, so a bad image fails a canary the way a
failing health check would; moto otherwise reports every registered instance healthy.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from moto.autoscaling.exceptions import AutoscalingClientError, ValidationError
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult
from moto.ec2.models import EC2Backend
from moto.ec2.responses.launch_templates import LaunchTemplates
from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

UNHEALTHY_AMI_TAG = "sandbox:unhealthy"
ACTIVE = ("Pending", "InProgress", "Baking", "Cancelling")
MAX_DELAY = 172800  # CheckpointDelay's documented maximum (48 hours)


class _Fault(AutoscalingClientError):
    """An Auto Scaling fault, by its shape in the API model (moto serialises its code)."""


def _refreshes(response: AutoScalingResponse) -> dict[str, list[dict[str, Any]]]:
    backend = response.autoscaling_backend
    found: dict[str, list[dict[str, Any]]] = backend.__dict__.setdefault("packerpy_refreshes", {})
    return found


def _preferences(given: dict[str, Any]) -> dict[str, Any]:
    prefs = dict(given or {})
    healthy = int(prefs.get("MinHealthyPercentage", 90))
    if not 0 <= healthy <= 100:
        raise ValidationError(f"MinHealthyPercentage {healthy} must be between 0 and 100")
    points = [int(p) for p in prefs.get("CheckpointPercentages") or []]
    if points and (points != sorted(set(points)) or not all(1 <= p <= 100 for p in points)):
        raise ValidationError("CheckpointPercentages must be unique, ascending, from 1 to 100")
    if "CheckpointDelay" in prefs and not points:
        raise ValidationError("CheckpointDelay requires CheckpointPercentages")
    delay = int(prefs.get("CheckpointDelay", 3600))
    if not 0 <= delay <= MAX_DELAY:
        raise ValidationError(f"CheckpointDelay {delay} must be between 0 and {MAX_DELAY}")
    prefs["MinHealthyPercentage"] = healthy
    if points:
        prefs["CheckpointPercentages"], prefs["CheckpointDelay"] = points, delay
    return prefs


def start_instance_refresh(self: AutoScalingResponse) -> ActionResult:
    name = self._get_param("AutoScalingGroupName")
    if name not in self.autoscaling_backend.autoscaling_groups:
        raise ValidationError(f"AutoScalingGroup name not found - {name}")
    strategy = self._get_param("Strategy") or "Rolling"
    if strategy not in ("Rolling", "ReplaceRootVolume"):
        raise ValidationError(f"Strategy {strategy} is not Rolling or ReplaceRootVolume")
    history = _refreshes(self).setdefault(name, [])
    if any(r["Status"] in ACTIVE for r in history):
        raise _Fault(
            "InstanceRefreshInProgressFault",
            f"An Instance Refresh is already in progress "
            f"and blocks the execution of this Instance Refresh for {name}.",
        )
    refresh = {
        "InstanceRefreshId": str(uuid.uuid4()),
        "AutoScalingGroupName": name,
        "Status": "Pending",
        "StartTime": datetime.now(UTC),
        "PercentageComplete": 0,
        "InstancesToUpdate": len(self.autoscaling_backend.autoscaling_groups[name].instance_states),
        "Preferences": _preferences(self._get_param("Preferences", {})),
        "Strategy": strategy,
    }
    desired = self._get_param("DesiredConfiguration")
    if desired:
        refresh["DesiredConfiguration"] = desired
    history.insert(0, refresh)
    return ActionResult({"InstanceRefreshId": refresh["InstanceRefreshId"]})


def _advance(self: AutoScalingResponse, refresh: dict[str, Any]) -> None:
    """One step of the sandbox's refresh: Pending -> InProgress -> Successful (applied)."""
    if refresh["Status"] == "Pending":
        refresh["Status"] = "InProgress"
    elif refresh["Status"] == "InProgress":
        template = (refresh.get("DesiredConfiguration") or {}).get("LaunchTemplate")
        group = self.autoscaling_backend.autoscaling_groups.get(refresh["AutoScalingGroupName"])
        if group is not None:
            if template:
                group._set_launch_configuration("", template, None)
            size = group.desired_capacity
            group.set_desired_capacity(0)
            group.set_desired_capacity(size)
        refresh.update(
            Status="Successful",
            PercentageComplete=100,
            InstancesToUpdate=0,
            EndTime=datetime.now(UTC),
        )


def describe_instance_refreshes(self: AutoScalingResponse) -> ActionResult:
    name = self._get_param("AutoScalingGroupName")
    wanted = self._get_param("InstanceRefreshIds", [])
    size = self._get_int_param("MaxRecords", 50)
    if not 1 <= size <= 100:
        raise ValidationError(f"MaxRecords {size} must be between 1 and 100")
    found = [
        r for r in _refreshes(self).get(name, []) if not wanted or r["InstanceRefreshId"] in wanted
    ]
    for refresh in found:
        _advance(self, refresh)
    return ActionResult({"InstanceRefreshes": found[:size]})


def cancel_instance_refresh(self: AutoScalingResponse) -> ActionResult:
    name = self._get_param("AutoScalingGroupName")
    active = [r for r in _refreshes(self).get(name, []) if r["Status"] in ACTIVE]
    if not active:
        raise _Fault(
            "ActiveInstanceRefreshNotFoundFault",
            f"No in progress or pending Instance Refresh found for {name}.",
        )
    active[0].update(Status="Cancelled", EndTime=datetime.now(UTC))
    return ActionResult({"InstanceRefreshId": active[0]["InstanceRefreshId"]})


def create_launch_template_version(self: LaunchTemplates) -> ActionResult:
    """CreateLaunchTemplateVersion, starting from SourceVersion's data when one is given."""
    source = self._get_param("SourceVersion")
    if not source:
        return _MOTO_CREATE_VERSION(self)
    name, given = self._get_param("LaunchTemplateName"), self._get_param("LaunchTemplateData", {})
    template_id = self._get_param("LaunchTemplateId")
    backend = self.ec2_backend
    template = (
        backend.get_launch_template(template_id)
        if template_id
        else backend.get_launch_template_by_name(name)
    )
    self.error_on_dryrun()
    data = {**template.get_version(source).data, **given}
    version = template.create_version(data, self._get_param("VersionDescription"))
    found = {
        "CreateTime": version.create_time,
        "DefaultVersion": template.is_default(version),
        "LaunchTemplateData": version.data,
        "LaunchTemplateId": template.id,
        "LaunchTemplateName": template.name,
        "VersionDescription": version.description,
        "VersionNumber": version.number,
    }
    return ActionResult({"LaunchTemplateVersion": found})


_MOTO_CREATE_VERSION = LaunchTemplates.create_launch_template_version


def _health_for(
    self: FakeTargetGroup, target: dict[str, Any], ec2_backend: EC2Backend
) -> FakeHealthStatus:
    found: FakeHealthStatus = _MOTO_HEALTH_FOR(self, target, ec2_backend)
    if found.status != "healthy" or not str(target["Id"]).startswith("i-"):
        return found
    try:
        image = ec2_backend.get_instance(target["Id"]).image_id
    except Exception:  # noqa: BLE001 - moto raises its own not-found error
        return found
    if UNHEALTHY_AMI_TAG in ec2_backend.tags.get(image, {}):
        return FakeHealthStatus(
            target["Id"],
            found.port,
            found.health_check_port,
            "unhealthy",
            "Target.FailedHealthChecks",
            "Health checks failed",
        )
    return found


_MOTO_HEALTH_FOR = FakeTargetGroup.health_for


def install() -> None:
    """Add instance refresh to moto's Auto Scaling and the unhealthy-AMI hook to ELBv2."""
    AutoScalingResponse.start_instance_refresh = start_instance_refresh  # type: ignore[attr-defined]
    AutoScalingResponse.describe_instance_refreshes = describe_instance_refreshes  # type: ignore[attr-defined]
    AutoScalingResponse.cancel_instance_refresh = cancel_instance_refresh  # type: ignore[attr-defined]
    LaunchTemplates.create_launch_template_version = create_launch_template_version  # type: ignore[method-assign]
    FakeTargetGroup.health_for = _health_for  # type: ignore[method-assign]
