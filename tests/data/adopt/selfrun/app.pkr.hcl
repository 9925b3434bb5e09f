# A team that runs `packer build` itself and lets packerpy version, tag and share the result.
variable "aws_endpoint" {
  type    = string
  default = ""
}

variable "packerpy" {
  type    = string
  default = "packerpy"
}

source "amazon-ebs" "app" {
  region                     = "us-east-1"
  instance_type              = "t3.micro"
  source_ami                 = "ami-03cf127a"
  ami_name                   = "selfrun-{{timestamp}}"
  communicator               = "none"
  custom_endpoint_ec2        = var.aws_endpoint
  skip_credential_validation = true
  skip_metadata_api_check    = true
  skip_region_validation     = true
}

build {
  sources = ["source.amazon-ebs.app"]

  post-processors {
    post-processor "manifest" {
      output = "manifest.json"
    }
    post-processor "shell-local" {
      inline = ["${var.packerpy} -c ../packerpy.toml post-process --image selfrun --manifest manifest.json"]
    }
  }
}
