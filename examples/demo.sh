#!/usr/bin/env bash
# `make demo`: start a local AWS, then take an example image through everything packerpy does
# today, printing each command and what it produced. Leaves nothing running.
set -euo pipefail

examples=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d -t packerpy-demo.XXXXXX)
bold=$(printf '\033[1m') plain=$(printf '\033[0m')
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*" >&2; "$@"; }
cleanup() { (cd "$work" && packerpy sandbox stop >/dev/null 2>&1) || true; }
trap cleanup EXIT
cd "$work"

step "1. A local AWS: moto on 127.0.0.1 (packerpy sandbox start)"
show packerpy sandbox start > exports.sh
cat exports.sh
# shellcheck disable=SC1091
. ./exports.sh

step "2. Scaffold a project (packerpy init)"
mkdir web && cd web
show packerpy init web
sed -n '/^\[images.web\]/,$p' packerpy.toml

step "3. Validate config and rendered template (python-hcl2, packer fmt -check, packer validate)"
show packerpy validate

step "4. Render the HCL2 packerpy would run"
show packerpy render web --out build/
cat build/web.pkr.hcl build/web.pkrvars.hcl

step "5. Bake with the real packer binary, then run the post-processing steps (tag)"
show packerpy build web --json > build.json
python - build.json <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))["data"]
print(f"built {data['image']} {data['version']} with packer {data['packer_version']}: {data['amis']}")
print("timings (s):", data["timings"])
print("run record:", data["run_dir"])
PY

step "6. Look at the result in the sandbox with boto3"
python - build.json <<'PY'
import json, sys, boto3
amis = json.load(open(sys.argv[1]))["data"]["amis"]
for region, ami in amis.items():
    ec2 = boto3.client("ec2", region_name=region)
    image = ec2.describe_images(ImageIds=[ami])["Images"][0]
    snap = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    tags = {t["Key"]: t["Value"] for t in image["Tags"]}
    snap_tags = {t["Key"]: t["Value"] for t in ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"][0]["Tags"]}
    print(f"{region} {ami} {image['Name']!r} tags={tags}")
    print(f"{region} {snap} snapshot tags match: {snap_tags == tags}")
PY

step "7. The example project: two regions, KMS-encrypted, shared with two accounts"
cp -r "$examples/web" "$work/example" && cd "$work/example"
sed -n '/^\[images.web\]/,$p' packerpy.toml
show packerpy build web --json > build.json
python - build.json <<'PY'
import json, sys, boto3
amis = json.load(open(sys.argv[1]))["data"]["amis"]
for region, ami in amis.items():
    ec2 = boto3.client("ec2", region_name=region)
    users = ec2.describe_image_attribute(ImageId=ami, Attribute="launchPermission")["LaunchPermissions"]
    print(f"{region} {ami} launch permissions: {sorted(p['UserId'] for p in users)}")
PY

step "8. Mistakes get one line and a documented exit code"
cp packerpy.toml packerpy.toml.good
sed -i 's/regions = \["us-east-1", "us-west-2"\]/regions = ["us-east-1", "us-wst-2"]/' packerpy.toml
set +e
show packerpy validate; echo "exit code: $?"
mv packerpy.toml.good packerpy.toml
PACKERPY_PACKER=/nonexistent/packer packerpy build web; echo "exit code: $? (packer not found)"
set -e

step "9. Run records"
ls -1 "$work"/web/.packerpy/runs/*/

step "Done: sandbox started, project scaffolded, validated, rendered, baked, tagged, checked, recorded"
echo "(work directory: $work; the sandbox is stopped on exit)"
