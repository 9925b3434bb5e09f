# A hand-written template as teams keep them: variables, locals, packer's own {{timestamp}},
# and its own manifest post-processor. packerpy must run it exactly as it is.
variable "region" {
  type    = string
  default = "us-east-1"
}

variable "aws_endpoint" {
  type    = string
  default = ""
}

variable "ami_name" {
  type    = string
  default = "legacy-web-{{timestamp}}"
}

variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  owner = "platform-team"
}

source "amazon-ebs" "web" {
  region                      = var.region
  instance_type               = "t3.micro"
  source_ami                  = "ami-03cf127a"
  ami_name                    = var.ami_name
  ami_description             = "built by ${local.owner}"
  communicator                = "none"
  custom_endpoint_ec2         = var.aws_endpoint
  skip_credential_validation  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  encrypt_boot                = false
  tags                        = var.tags
}

build {
  sources = ["source.amazon-ebs.web"]

  post-processor "manifest" {
    output = "legacy-manifest.json"
  }
}
