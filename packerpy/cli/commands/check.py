"""`packerpy validate`, `render` and `lint`: check a project without baking anything."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from packerpy import lint
from packerpy.bake import pipeline
from packerpy.cli import output
from packerpy.cli.commands import module_app
from packerpy.cli.invocation import JsonOption, aws_settings, project
from packerpy.contract import (
    FindingData,
    ImageCheckData,
    LintData,
    RenderData,
    ValidateData,
)
from packerpy.errors import EXIT_LINT, EXIT_OK

app = module_app()


@app.command()
def validate(
    ctx: typer.Context,
    image: Annotated[str | None, typer.Argument(help="Only this image.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Check the config and each rendered template (python-hcl2, packer fmt, packer validate)."""
    loaded = project(ctx)
    result = pipeline.validate(loaded, aws_settings(ctx, loaded), image)
    data = ValidateData(
        config=result.config,
        packer_version=result.packer_version,
        images=[
            ImageCheckData(image=check.image, source=check.source, checks=list(check.checks))
            for check in result.images
        ],
    )
    lines = [f"{loaded.label}: config ok (packer {result.packer_version})"]
    lines += [f"{c.image}: template ok ({', '.join(c.checks[1:])})" for c in result.images]
    output.emit(ctx, as_json, data, lines)


@app.command()
def render(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image to render.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write into.")] = Path(
        "build"
    ),
    as_json: JsonOption = False,
) -> None:
    """Write the HCL2 template and var file packerpy would run for IMAGE."""
    loaded = project(ctx)
    result = pipeline.render_to(loaded, image, aws_settings(ctx, loaded), out_dir.resolve())
    data = RenderData(
        image=result.image,
        template=result.template,
        var_file=result.var_file,
        source=result.source,
        packer_version=result.packer_version,
    )
    output.emit(ctx, as_json, data, [f"wrote {result.template}", f"wrote {result.var_file}"])


@app.command("lint")
def lint_project(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Secrets (detect-secrets) and policy findings over the project.

    Exits 0 when there are no errors (warnings allowed) and 11 when there are.
    """
    result, messages = lint.run(project(ctx))
    data = LintData(
        findings=[
            FindingData(
                rule=f.rule,
                severity=f.severity,
                file=f.file,
                line=f.line,
                message=f.message,
                fix=f.fix,
            )
            for f in result.findings
        ],
        scanned=list(result.scanned),
        errors=result.errors,
        warnings=result.warnings,
    )
    lines = [
        f"{f.file}{'' if f.line is None else f':{f.line}'}: {f.severity} {f.rule} "
        f"{f.message} (fix: {f.fix})"
        for f in result.findings
    ]
    lines.append(
        f"{result.errors} error(s), {result.warnings} warning(s) in {len(result.scanned)} file(s)"
    )
    code = EXIT_LINT if result.errors else EXIT_OK
    output.emit(ctx, as_json, data, lines, messages=messages, code=code)
    if code:
        raise typer.Exit(code)
