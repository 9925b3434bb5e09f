"""A real SSH bake: packer's amazon-ebs builder against moto, provisioning over SSH into an sshd
this test starts on 127.0.0.1 with its own keys. The "instance" is this machine, so only the
read-only `inventory` provisioner runs; its JSON comes back into the run record.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from packerpy import sandbox
from tests.helpers import envelope, invoke, run_cli

pytestmark = pytest.mark.e2e
SSHD = Path("/usr/sbin/sshd")


@pytest.fixture(scope="module")  # module: tests/e2e/test_verify.py bakes once and reuses it
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """sshd on a free loopback port, accepting one fresh key for root; yields (port, key)."""
    if not SSHD.exists() or shutil.which("ssh-keygen") is None:
        pytest.fail("sshd is not installed: `make test` installs openssh-server")
    work = tmp_path_factory.mktemp("sshd")
    for name in ("host", "client"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / name)], check=True
        )
    (work / "authorized_keys").write_text((work / "client.pub").read_text())
    port = sandbox.free_port()
    config = work / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {work / 'host'}\n"
        f"AuthorizedKeysFile {work / 'authorized_keys'}\nPidFile {work / 'sshd.pid'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        "Subsystem sftp internal-sftp\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation directory
    server = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = subprocess.run(
                [
                    "ssh",
                    "-i",
                    str(work / "client"),
                    "-p",
                    str(port),
                    "-o",
                    "BatchMode=yes",
                    "-o",
                    "StrictHostKeyChecking=no",
                    "-o",
                    "UserKnownHostsFile=/dev/null",
                    "root@127.0.0.1",
                    "true",
                ],
                capture_output=True,
                check=False,
            )
            if probe.returncode == 0:
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"sshd did not accept the test key: {probe.stderr.decode()}")
        yield port, work / "client"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_ssh_bake_runs_inventory_and_brings_it_back(
    aws: str, tmp_path: Path, sshd: tuple[int, Path]
) -> None:
    port, key = sshd
    assert invoke("init", "web", cwd=tmp_path).returncode == 0
    shutil.copy(key, tmp_path / "id_build")
    # A key file in the project must stay out of the repository: lint scans every file git would
    # commit (issue 9 class 9), so the project is a git repo that ignores the key, as a user's is.
    with (tmp_path / ".gitignore").open("a") as ignore:
        ignore.write("id_build\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    out = tmp_path / "remote" / "inventory.json"  # where the script writes, on the "instance"
    config = tmp_path / "packerpy.toml"
    text = config.read_text()
    head = text[: text.index("# Provisioners run over SSH")]
    head = head.replace(
        "[images.web.base.filter]",
        f'provisioners = ["inventory"]\nprovisioner_env = {{ INVENTORY_OUT = "{out}" }}\n\n'
        "[images.web.base.filter]",
    )
    config.write_text(
        head
        + "[images.web.communicator]\n"
        + f'type = "ssh"\nssh_username = "root"\nssh_host = "127.0.0.1"\nssh_port = {port}\n'
        + 'ssh_private_key_file = "id_build"\nssh_keypair_name = "packerpy-e2e"\n'
        + 'ssh_timeout = "30s"\n\n'
        + '[images.web.build_env]\nssh_cidrs = ["127.0.0.1/32"]\n'
    )
    done = run_cli("build", "web", "--json", cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    run_dir = Path(envelope(done)["data"]["run_dir"])
    log = (run_dir / "packer.log").read_text()
    assert "Connected to SSH!" in log or "Provisioning with shell script" in log
    inventory = json.loads((run_dir / "inventory.json").read_text())
    names = {p["name"] for p in inventory["packages"]}
    assert {"openssh-server", "packer"} <= names
    assert inventory == json.loads(out.read_text())  # exactly what the script wrote
