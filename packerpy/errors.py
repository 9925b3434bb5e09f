"""The one error hierarchy: every expected failure is a PackerpyError carrying its exit code.

The CLI's error boundary (packerpy.cli) is the only place that turns these into an exit status,
so a library user gets exceptions and a shell user gets a one-line message and a documented code.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

EXIT_OK = 0
EXIT_ERROR = 1  # an expected failure with no more specific code
EXIT_CONFIG = 2  # bad packerpy.toml, bad option or argument
EXIT_INTERNAL = 3  # a bug in packerpy: the log has the traceback
EXIT_TEMPLATE = 4  # a template that does not render, parse, format or validate
EXIT_PACKER_MISSING = 5  # no usable packer binary
EXIT_BUILD_FAILED = 6  # packer ran and the build failed
EXIT_MANIFEST = 7  # packer succeeded but its manifest is missing or malformed
EXIT_AWS = 8  # an AWS call failed (after retries)
EXIT_VERSION_EXISTS = 9  # the configured version is already published: bump it
EXIT_OUTDATED = 10  # `outdated` found images built on an older base AMI (for CI gates)
EXIT_LINT = 11  # `lint` found error-level findings
EXIT_ENVIRONMENT = 12  # the machine refused: read-only or full disk, a path that is a file, ...
EXIT_VERIFY_FAILED = 13  # `verify` (policy, launch test, scan or compliance gate) failed
EXIT_REFUSED = 14  # a lifecycle gate refused: not verified, channel order, revoked, in use, ...
EXIT_CONFLICT = 15  # another process changed the same channel or rollout at the same time
EXIT_FINDINGS = 16  # `scan` found vulnerabilities (or denied licences) at --fail-on or above
EXIT_ROLLED_BACK = 17  # a rollout failed its health gate and returned to blue
EXIT_INTERRUPTED = 130  # SIGINT/SIGTERM: packer was cancelled and cleaned up

EXIT_CODES: dict[str, int] = {
    "ok": EXIT_OK,
    "error": EXIT_ERROR,
    "config": EXIT_CONFIG,
    "internal": EXIT_INTERNAL,
    "template": EXIT_TEMPLATE,
    "packer-missing": EXIT_PACKER_MISSING,
    "build-failed": EXIT_BUILD_FAILED,
    "manifest": EXIT_MANIFEST,
    "aws": EXIT_AWS,
    "version-exists": EXIT_VERSION_EXISTS,
    "outdated": EXIT_OUTDATED,
    "lint": EXIT_LINT,
    "environment": EXIT_ENVIRONMENT,
    "verify-failed": EXIT_VERIFY_FAILED,
    "refused": EXIT_REFUSED,
    "conflict": EXIT_CONFLICT,
    "findings": EXIT_FINDINGS,
    "rolled-back": EXIT_ROLLED_BACK,
    "interrupted": EXIT_INTERRUPTED,
}


class ExitCode(IntEnum):
    """The exit statuses above as one type (README's table can be tested against it)."""

    OK = EXIT_OK
    ERROR = EXIT_ERROR
    CONFIG = EXIT_CONFIG
    INTERNAL = EXIT_INTERNAL
    TEMPLATE = EXIT_TEMPLATE
    PACKER_MISSING = EXIT_PACKER_MISSING
    BUILD_FAILED = EXIT_BUILD_FAILED
    MANIFEST = EXIT_MANIFEST
    AWS = EXIT_AWS
    VERSION_EXISTS = EXIT_VERSION_EXISTS
    OUTDATED = EXIT_OUTDATED
    LINT = EXIT_LINT
    ENVIRONMENT = EXIT_ENVIRONMENT
    VERIFY_FAILED = EXIT_VERIFY_FAILED
    REFUSED = EXIT_REFUSED
    CONFLICT = EXIT_CONFLICT
    FINDINGS = EXIT_FINDINGS
    ROLLED_BACK = EXIT_ROLLED_BACK
    INTERRUPTED = EXIT_INTERRUPTED


class PackerpyError(Exception):
    """An expected failure: `message` is one line a user can act on."""

    exit_code: int = EXIT_ERROR

    def __init__(self, message: str, *, detail: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        # Extra lines (e.g. the tail of packer's output) shown below the one-line message.
        self.detail = tuple(detail)
        # The failure's `--json` data (e.g. a failed build's run_dir and phase); {} for most.
        self.data: dict[str, object] = {}


class ConfigError(PackerpyError):
    """packerpy.toml, an option or an argument is wrong; also the checks that need the machine
    (packer version, installed step plugins, secrets in the environment)."""

    exit_code = EXIT_CONFIG


class TemplateError(PackerpyError):
    """A template that does not render (packerpy's side; packer's is PackerTemplateError)."""

    exit_code = EXIT_TEMPLATE


class PackerError(PackerpyError):
    """packer ran and failed; carries the command, its exit code and the tail of its output."""

    exit_code = EXIT_BUILD_FAILED

    def __init__(
        self,
        message: str,
        *,
        command: Sequence[str] = (),
        returncode: int | None = None,
        tail: Sequence[str] = (),
    ) -> None:
        super().__init__(message, detail=tail)
        self.command = tuple(command)
        self.returncode = returncode
        self.tail = tuple(tail)


class PackerMissingError(PackerError):
    """No usable packer: not on PATH, not executable, or too old to report its version."""

    exit_code = EXIT_PACKER_MISSING


class PackerTemplateError(PackerError):
    """packer itself rejected the rendered template (fmt or validate)."""

    exit_code = EXIT_TEMPLATE


class InterruptedByUser(PackerError):
    """SIGINT or SIGTERM while packer ran: packer was told to stop and clean up."""

    exit_code = EXIT_INTERRUPTED


class Cancelled(PackerpyError):
    """Ctrl-C or SIGTERM stopped an operation between actions (release/operation.py).

    `outcome` is the partial Outcome (what was done, what was not started); typed loosely so
    this lowest module imports nothing above it.
    """

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str, *, detail: Sequence[str] = (), outcome: object = None) -> None:
        super().__init__(message, detail=detail)
        self.outcome = outcome


class ManifestError(PackerpyError):
    """packer succeeded but its manifest is missing or does not name this run's AMIs."""

    exit_code = EXIT_MANIFEST


class AwsError(PackerpyError):
    """An AWS call failed after botocore's retries (see aws.clients.translated)."""

    exit_code = EXIT_AWS


class VersionExistsError(PackerpyError):
    """The configured version is already published with other inputs: bump it."""

    exit_code = EXIT_VERSION_EXISTS


class PolicyError(PackerpyError):
    """`lint` found error-level findings where they block: build runs lint first.

    Raised by the build's lint gate, hence exit code EXIT_LINT (the review calls it LintError).
    """

    exit_code = EXIT_LINT


class SandboxError(PackerpyError):
    """The local AWS (moto) cannot start, or its state file is unreadable (exit code 1)."""


class HostError(PackerpyError):
    """The machine refused what packerpy had to do with a path: a read-only or full file system,
    a missing permission, a file where a directory belongs (support.oserrors.translated).

    Not a bug and not bad config: the message names the path and what is wrong with it.
    (Not called EnvironmentError, which is a builtin alias of OSError.)
    """

    exit_code = EXIT_ENVIRONMENT


class VerifyFailed(PackerpyError):
    """`verify` ran and the version failed a check; the verdict is tagged on the AMI."""

    exit_code = EXIT_VERIFY_FAILED


class Refused(PackerpyError):
    """A lifecycle gate said no: promote of an unverified or revoked version, out of channel
    order, a base AMI that is revoked, cleanup of an AMI that became in use, a second rollout."""

    exit_code = EXIT_REFUSED


class Conflict(PackerpyError):
    """Another process changed the same channel parameter or rollout between read and write."""

    exit_code = EXIT_CONFLICT


class FindingsError(PackerpyError):
    """`scan` found vulnerabilities or denied licences at or above the threshold."""

    exit_code = EXIT_FINDINGS


class RolledBack(PackerpyError):
    """A rollout failed a health check, timed out or saw its alarm, and went back to blue."""

    exit_code = EXIT_ROLLED_BACK
