"""packer build's pass-through options as command lines (issue 11.1)."""

from __future__ import annotations

from pathlib import Path

from packerpy.packer import binary as packer

INFO = packer.PackerInfo(binary="/usr/bin/packer", version=(1, 6, 6))


def test_every_pass_through_option_in_packers_spelling() -> None:
    flags = packer.BuildFlags(
        variables=(("flavour", "a=b"), ("flavour", "c")),  # repeated: packer's last one wins
        var_files=(Path("run/user-1-prod.pkrvars.hcl"),),
        only=("web.amazon-ebs.web",),
        exclude=("other",),
        on_error="abort",
        parallel_builds=0,
        timestamp_ui=True,
    )
    command = packer.build_command(
        INFO, Path("run/web.pkr.hcl"), Path("run/vars.pkrvars.hcl"), flags=flags
    )
    assert command == [
        "/usr/bin/packer",
        "build",
        "-machine-readable",
        "-color=false",
        "-var-file=run/vars.pkrvars.hcl",  # packerpy's own first: the user's files win
        "-var=flavour=a=b",
        "-var=flavour=c",
        "-var-file=run/user-1-prod.pkrvars.hcl",
        "-only=web.amazon-ebs.web",
        "-except=other",
        "-on-error=abort",
        "-parallel-builds=0",
        "-timestamp-ui",
        "run/web.pkr.hcl",
    ]


def test_debug_and_ask_are_interactive_and_human_readable() -> None:
    for flags in (packer.BuildFlags(debug=True), packer.BuildFlags(on_error="ask")):
        assert flags.interactive
        command = packer.build_command(INFO, Path("t.pkr.hcl"), Path("v.pkrvars.hcl"), flags=flags)
        assert "-machine-readable" not in command and "-color=false" not in command
    assert "-debug" in packer.BuildFlags(debug=True).arguments()
    assert not packer.BuildFlags(on_error="abort").interactive
    assert packer.BuildFlags().arguments() == []


def test_on_error_needs_packer_1_5() -> None:
    assert INFO.supports_on_error("abort")
    old = packer.PackerInfo(binary="packer", version=(1, 4, 5))
    assert old.supports_on_error("cleanup") and not old.supports_on_error("ask")
