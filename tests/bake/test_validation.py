"""validate: packer's checks run concurrently and are skipped for content packer accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from packerpy import config, scaffold
from packerpy.aws.settings import aws_settings
from packerpy.bake import pipeline, validation
from packerpy.errors import PackerTemplateError

pytestmark = pytest.mark.packer


def project_of(tmp_path: Path, images: int) -> config.Project:
    scaffold.init("web", tmp_path)
    path = tmp_path / "packerpy.toml"
    text = path.read_text()
    section = text[text.index("[images.web]") :]
    copies = [section.replace("images.web", f"images.img{n}") for n in range(1, images)]
    path.write_text("\n".join([text, *copies]))
    return config.load(path)


def test_unchanged_templates_are_not_checked_by_packer_again(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11 point 10: validate of a 50-image project took 15 s, every time."""
    project = project_of(tmp_path, 3)
    settings = aws_settings(project, environ={"AWS_ENDPOINT_URL": aws})
    checked: list[str] = []
    real = validation.packer_checks

    def counting(info: object, files: validation.render.RenderedFiles, *rest: object) -> None:
        checked.append(files.template.name)
        real(info, files, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(validation, "packer_checks", counting)
    first = pipeline.validate(project, settings)
    assert [check.image for check in first.images] == ["img1", "img2", "web"]
    assert sorted(checked) == ["img1.pkr.hcl", "img2.pkr.hcl", "web.pkr.hcl"]
    checked.clear()
    assert pipeline.validate(project, settings) == first
    assert checked == []  # the same packer accepted this content before
    path = tmp_path / "packerpy.toml"
    path.write_text(path.read_text().replace('t3.micro"', 't3.small"', 1))
    pipeline.validate(config.load(path), settings)
    assert checked == ["web.pkr.hcl"]  # only the changed template


def test_a_rejected_template_is_reported_and_never_cached(aws: str, tmp_path: Path) -> None:
    project = project_of(tmp_path, 2)
    settings = aws_settings(project, environ={"AWS_ENDPOINT_URL": aws})
    templates = tmp_path / "hcl_templates"
    builtin = project.templates_dirs()[1] / "amazon-ebs.pkr.hcl.j2"
    broken = builtin.read_text().replace("build {", 'build {\n  nonsense = "x"', 1)
    (templates / "amazon-ebs.pkr.hcl.j2").write_text(broken)
    for _ in range(2):  # the second run checks again: a failure is not remembered
        with pytest.raises(PackerTemplateError, match=r"^img1\.pkr\.hcl: "):
            pipeline.validate(project, settings)
