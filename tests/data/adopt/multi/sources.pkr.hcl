source "amazon-ebs" "small" {
  region                     = var.region
  instance_type              = "t3.micro"
  source_ami_filter {
    filters = {
      name = "amzn2-ami-hvm-*"
    }
    owners      = ["amazon"]
    most_recent = true
  }
  ami_name                   = "${var.name_prefix}-small-{{timestamp}}"
  communicator               = "none"
  custom_endpoint_ec2        = var.endpoint
  skip_credential_validation = true
  skip_metadata_api_check    = true
  skip_region_validation     = true
}

source "amazon-ebs" "large" {
  region                     = var.region
  instance_type              = "t3.large"
  source_ami                 = "ami-03cf127a"
  ami_name                   = "${var.name_prefix}-large-{{timestamp}}"
  communicator               = "none"
  custom_endpoint_ec2        = var.endpoint
  skip_credential_validation = true
  skip_metadata_api_check    = true
  skip_region_validation     = true
}
