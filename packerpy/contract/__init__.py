"""The public output contract: the `--json` envelope and each command's `data`, versioned.

These models are what scripts and CI read, so they are declared field by field and never
reflected from internal types: renaming an internal field cannot change what a user parses.
`result.json` in a run record holds the same `BuildData` as `packerpy build --json`.
Bump SCHEMA_VERSION on any incompatible change (a removed or renamed field, a changed type);
adding a field is compatible. base.py: the envelope; core.py: making and publishing images;
lifecycle.py: the release lifecycle's commands. Callers import everything from here.
"""

from __future__ import annotations

from packerpy.contract.base import SCHEMA_VERSION, Data, Envelope
from packerpy.contract.core import (
    BuildData,
    BumpData,
    DoctorCheckData,
    DoctorData,
    EmptyData,
    FindingData,
    ImageCheckData,
    ImagesListData,
    InitData,
    LintData,
    OutdatedData,
    OutdatedImageData,
    PublishData,
    PublishedData,
    ReapData,
    RenderData,
    SandboxData,
    StepData,
    ValidateData,
    VersionShowData,
)
from packerpy.contract.lifecycle import (
    AdoptData,
    CleanupAmiData,
    CleanupCostData,
    CleanupData,
    ReportAmiData,
    ReportCleanupData,
    ReportData,
    ReportEventData,
    ReportImageData,
    ReportVersionData,
    VerifyCheckData,
    VerifyData,
)

# Every command's data model, by command: the JSON Schemas a contract test pins.
DATA_MODELS: dict[str, type[Data]] = {
    "init": InitData,
    "validate": ValidateData,
    "render": RenderData,
    "build": BuildData,
    "publish": PublishData,
    "outdated": OutdatedData,
    "lint": LintData,
    "sandbox start": SandboxData,
    "sandbox status": SandboxData,
    "sandbox stop": SandboxData,
    "version show": VersionShowData,
    "version bump": BumpData,
    "images list": ImagesListData,
    "reap": ReapData,
    "doctor": DoctorData,
    "report": ReportData,
    "adopt": AdoptData,
    "post-process": PublishData,
    "verify": VerifyData,
    "cleanup": CleanupData,
}

__all__ = [
    "DATA_MODELS",
    "SCHEMA_VERSION",
    "AdoptData",
    "BuildData",
    "BumpData",
    "CleanupAmiData",
    "CleanupCostData",
    "CleanupData",
    "Data",
    "DoctorCheckData",
    "DoctorData",
    "EmptyData",
    "Envelope",
    "FindingData",
    "ImageCheckData",
    "ImagesListData",
    "InitData",
    "LintData",
    "OutdatedData",
    "OutdatedImageData",
    "PublishData",
    "PublishedData",
    "ReapData",
    "RenderData",
    "ReportAmiData",
    "ReportCleanupData",
    "ReportData",
    "ReportEventData",
    "ReportImageData",
    "ReportVersionData",
    "SandboxData",
    "StepData",
    "ValidateData",
    "VerifyCheckData",
    "VerifyData",
    "VersionShowData",
]
