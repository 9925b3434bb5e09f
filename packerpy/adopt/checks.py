"""What an adopted template must satisfy before packer runs it, read from the template itself.

Safety first: under an endpoint (the sandbox, tests, --endpoint-url) a template that does not
route its EC2 calls there would bake in real AWS (ux review, step 6). packerpy refuses it before
starting packer; the proxy variables packer runs with (packer/run.py) are the second wall.
"""

from __future__ import annotations

from collections.abc import Mapping

from packerpy.adopt.template import AMAZON_SOURCES, Expr, Source, TemplateDir


def _used_sources(template: TemplateDir, only: tuple[str, ...]) -> list[Source]:
    wanted = {ref for build in template.builds for ref in build.sources}
    chosen = [s for s in template.sources if s.ref in wanted and s.type in AMAZON_SOURCES]
    if only:
        # packer's -only names are TYPE.NAME, or BUILD.TYPE.NAME in a named build.
        chosen = [
            s for s in chosen if any(o == s.name or o.endswith(f"{s.type}.{s.name}") for o in only)
        ]
    return chosen


def endpoint_problems(
    template: TemplateDir,
    roles: Mapping[str, str],
    endpoint: str | None,
    only: tuple[str, ...] = (),
) -> list[str]:
    """One line per amazon source that would not reach `endpoint` (none when no endpoint)."""
    if not endpoint:
        return []
    variable = roles.get("aws_endpoint")
    problems = []
    for source in _used_sources(template, only):
        setting = source.settings.get("custom_endpoint_ec2")
        if isinstance(setting, Expr) and variable and setting.variable == variable:
            continue
        if setting == endpoint:
            continue
        how = (
            f'declare variable "{variable or "aws_endpoint"}" and set '
            f"custom_endpoint_ec2 = var.{variable or 'aws_endpoint'}"
        )
        problems.append(
            f"{template.path.name}/{source.file}: {source.ref} does not send its EC2 calls to "
            f"{endpoint} (custom_endpoint_ec2 is {_shown(setting)}); {how}"
        )
    return problems


def _shown(setting: object) -> str:
    if setting is None:
        return "not set"
    if isinstance(setting, Expr):
        return setting.text
    return repr(setting)


def encrypts(template: TemplateDir, only: tuple[str, ...] = ()) -> dict[str, bool | None]:
    """source ref -> encrypt_boot as written: True, False, or None when an expression decides."""
    found: dict[str, bool | None] = {}
    for source in _used_sources(template, only):
        setting = source.settings.get("encrypt_boot", False)
        found[source.ref] = setting if isinstance(setting, bool) else None
    return found
