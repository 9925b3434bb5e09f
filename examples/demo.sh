#!/usr/bin/env bash
# `make demo`: start a local AWS, then take an example image through everything packerpy does
# today, printing each command and what it produced. Leaves nothing running.
set -euo pipefail

examples=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d -t packerpy-demo.XXXXXX)
bold=$(printf '\033[1m') plain=$(printf '\033[0m')
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*" >&2; "$@"; }
# The sandbox is one per user (~/.local/state/packerpy); the demo keeps its own in $work so it
# neither reuses nor stops a sandbox you already run.
export PACKERPY_SANDBOX_DIR="$work/sandbox"
cleanup() { packerpy sandbox stop >/dev/null 2>&1 || true; }
trap cleanup EXIT
cd "$work"

step "1. A local AWS: moto on 127.0.0.1 (packerpy sandbox start)"
show packerpy sandbox start > exports.sh
cat exports.sh
# shellcheck disable=SC1091
. ./exports.sh

step "2. Scaffold a project (packerpy init); the sandbox is found from any directory"
mkdir web && cd web
show packerpy sandbox status
eval "$(packerpy sandbox status 2>/dev/null)"
show packerpy init web
sed -n '/^\[images.web\]/,$p' packerpy.toml

step "3. Validate config and rendered template (python-hcl2, packer fmt -check, packer validate)"
show packerpy validate

step "3b. Lint: secrets (detect-secrets) and policy rules; build runs this first and stops on errors"
show packerpy lint

step "4. Render the HCL2 packerpy would run"
show packerpy render web --out build/
cat build/web.pkr.hcl build/web.pkrvars.hcl

step "5. Lint, look up published versions, bake with the real packer, run the steps (copy, share, tag, deprecate)"
show packerpy build web --json > "$work/build.json"
python - "$work/build.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))["data"]
print(f"built {data['image']} {data['version']} with packer {data['packer_version']}: {data['amis']}")
print("timings (s):", data["timings"])
print("run record:", data["run_dir"])
PY

step "6. Look at the result in the sandbox with boto3"
python - "$work/build.json" <<'PY'
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

step "7. Versions are immutable: the same version again is skipped (exit 0); unchanged inputs are not baked twice"
set +e
show packerpy build web; echo "exit code: $?"
set -e
show packerpy version bump web patch
show packerpy build web
show packerpy images list web
show packerpy version show web

step "8. The example project: two regions, KMS-encrypted, shared (with KMS grants), deprecated after 180 days"
cp -r "$examples/web" "$work/example" && cd "$work/example"
echo "-- the customer-managed key alias/ami-web in each region, as a real account would have it"
python - <<'PY'
import boto3
for region in ("us-east-1", "us-west-2", "eu-west-1"):
    kms = boto3.client("kms", region_name=region)
    key = kms.create_key(Description="demo AMI key")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/ami-web", TargetKeyId=key)
    print(f"{region}: alias/ami-web -> {key}")
PY
sed -n '/^\[images.web\]/,$p' packerpy.toml
show packerpy build web --json > "$work/build.json"
echo "baked: $(python -c 'import json; print(json.load(open("'"$work"'/build.json"))["data"]["amis"])')"
echo "-- add a third region, then converge the existing version with publish"
sed -i 's/regions = \["us-east-1", "us-west-2"\]/regions = ["us-east-1", "us-west-2", "eu-west-1"]/; s/"us-west-2" = "alias\/ami-web" }/"us-west-2" = "alias\/ami-web", "eu-west-1" = "alias\/ami-web" }/' packerpy.toml
show packerpy publish web 1.0.0 --dry-run
show packerpy publish web 1.0.0
echo "-- again: a converged version makes no mutating call"
show packerpy publish web 1.0.0 --json > "$work/publish.json"
python - "$work/publish.json" <<'PY'
import json, sys, boto3
data = json.load(open(sys.argv[1]))["data"]
print(f"re-publish: {data['calls']} AWS calls, mutating: {data['mutating']}")
amis = data["amis"]
for region, ami in amis.items():
    ec2 = boto3.client("ec2", region_name=region)
    image = ec2.describe_images(ImageIds=[ami])["Images"][0]
    users = ec2.describe_image_attribute(ImageId=ami, Attribute="launchPermission")["LaunchPermissions"]
    print(f"{region} {ami} shared with {sorted(p['UserId'] for p in users)}; "
          f"deprecates {image.get('DeprecationTime')}; fingerprint tag "
          f"{dict((t['Key'], t['Value']) for t in image['Tags'])['packerpy:fingerprint'][:12]}")
PY

step "8b. Verify: policy checks per region (the launch test needs verify.tests and SSH), verdict tagged"
show packerpy verify web 1.0.0 --skip-launch

step "8c. Channels: promote dev -> prod (verified versions only, in channel order); consumers resolve SSM"
show packerpy promote web 1.0.0 --to dev
show packerpy promote web 1.0.0 --to prod
echo "-- a second version: change an input, bump, bake, verify, promote to dev"
sed -i 's/app_release = "2026.11"/app_release = "2026.12"/' packerpy.toml
show packerpy version bump web patch
show packerpy build web --json > "$work/build2.json"
show packerpy verify web 1.0.1 --skip-launch
set +e
show packerpy promote web 1.0.1 --to prod; echo "exit code: $? (refused: 1.0.1 is not on dev yet)"
set -e
show packerpy promote web 1.0.1 --to dev
show packerpy channels web
python - <<'PY'
import boto3
for region in ("us-east-1", "us-west-2", "eu-west-1"):
    value = boto3.client("ssm", region_name=region).get_parameter(Name="/packerpy/example/web/dev")["Parameter"]
    print(f"{region}: resolve:ssm:/packerpy/example/web/dev -> {value['Value']} ({value.get('DataType')})")
PY

step "8d. Roll the dev channel's AMI out to an Auto Scaling group (blue-green, canary 50% then 100%)"
python - <<'PY'
import boto3
ec2 = boto3.client("ec2", region_name="us-east-1")
old = boto3.client("ssm", region_name="us-east-1").get_parameter(Name="/packerpy/example/web/prod")["Parameter"]["Value"]
subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
lt = ec2.create_launch_template(LaunchTemplateName="web-demo", LaunchTemplateData={"ImageId": old, "InstanceType": "t3.micro"})["LaunchTemplate"]["LaunchTemplateId"]
boto3.client("autoscaling", region_name="us-east-1").create_auto_scaling_group(
    AutoScalingGroupName="web-demo", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"},
    MinSize=1, MaxSize=4, DesiredCapacity=2, VPCZoneIdentifier=",".join(subnets))
print(f"group web-demo: 2 instances of {old} (prod's AMI), launch template {lt}")
PY
show packerpy rollout web --channel dev --asg web-demo --canary 50,100
show packerpy rollout web --channel dev --asg web-demo --canary 50,100 --bake-time 1s --apply
show packerpy rollout status web --asg web-demo

step "8e. Revoke: off every channel (dev goes back to 1.0.0), deprecated now, tagged; rollback and cleanup"
show packerpy revoke web 1.0.1 --reason "CVE-2026-1234 (demo)"
show packerpy channels web
show packerpy cleanup

step "8f. Adopt a hand-written packer template, unchanged, and build it as a versioned image"
cp -r "$examples/legacy" legacy-packer
show packerpy adopt legacy-packer --image legacy
show packerpy build legacy --skip-lint
show packerpy images list legacy

step "8g. The estate report: one self-contained HTML page"
show packerpy report --html "$work/estate.html"

step "9. Mistakes get one line and a documented exit code"
cp packerpy.toml packerpy.toml.good
sed -i 's/"us-east-1", "us-west-2"/"us-east-1", "us-wst-2"/' packerpy.toml
set +e
show packerpy validate; echo "exit code: $?"
mv packerpy.toml.good packerpy.toml
PACKERPY_PACKER=/nonexistent/packer packerpy build web; echo "exit code: $? (packer not found)"
set -e

step "10. Doctor: is this machine ready to bake?"
set +e
show packerpy doctor; echo "exit code: $?"
set -e

step "11. Reap: builder resources a killed run left behind (a plan; --apply removes them)"
show packerpy reap

step "12. Run records"
ls -1 "$work"/web/.packerpy/runs/*/

step "Done: sandbox, scaffold, validate, lint, render, bake, provenance tags, immutable versions (claimed in SSM), skipped bake, publish (copy, share with KMS grants, tag, deprecate), verify, channels (promote, order gate, revoke), rollout, cleanup plan, adopt, estate report, doctor, reap, run records"
echo "(work directory: $work; the sandbox is stopped on exit)"
