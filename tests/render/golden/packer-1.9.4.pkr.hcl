packer {
  required_version = ">= 1.7.0"
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.2.2, <= 1.3.9"
    }
  }
}

variable "ami_name" {
  type        = string
  description = "The AMI name (from ami_name_pattern)"
}

variable "image_version" {
  type        = string
  description = "The version being baked"
}

variable "tags" {
  type        = map(string)
  description = "packerpy's tags and the image's tags"
}

variable "run_tags" {
  type = map(string)
}

variable "ssh_private_key_file" {
  type        = string
  description = "The SSH key file (a path on this machine)"
}

variable "flags" {
  type        = list(string)
  description = "images.web.variables.flags"
}

variable "limits" {
  type        = object({ cpu = number, name = string })
  description = "images.web.variables.limits"
}

variable "mixed" {
  type        = tuple([string, number])
  description = "images.web.variables.mixed"
}

variable "odd" {
  description = "images.web.variables.odd"
}

variable "release" {
  type        = string
  description = "images.web.variables.release"
}

variable "replicas" {
  type        = number
  description = "images.web.variables.replicas"
}

variable "db_password" {
  type        = string
  sensitive   = true
  description = "A secret (PKR_VAR_db_password)"
}

source "amazon-ebs" "web" {
  region                                = "us-east-1"
  instance_type                         = "t3.micro"
  ami_description                       = "web ${var.image_version} (packerpy)"
  ami_regions                           = ["eu-west-1"]
  encrypt_boot                          = true
  kms_key_id                            = "alias/ami"
  region_kms_key_ids                    = { "eu-west-1" = "alias/ami-eu" }
  ami_users                             = ["111122223333"]
  snapshot_users                        = ["111122223333"]
  ami_org_arns                          = ["arn:aws:organizations::111122223333:organization/o-abc123def4"]
  ami_ou_arns                           = ["arn:aws:organizations::111122223333:ou/o-abc123def4/ou-ab12-cdef3456"]
  max_retries                           = 3
  communicator                          = "ssh"
  ssh_username                          = "admin"
  ssh_keypair_name                      = "build"
  ssh_private_key_file                  = var.ssh_private_key_file
  ssh_timeout                           = "5m"
  ssh_clear_authorized_keys             = true
  subnet_id                             = "subnet-0123456789abcdef0"
  temporary_security_group_source_cidrs = ["10.0.0.0/16"]
  imds_support                          = "v2.0"
  ami_name                              = var.ami_name
  tags                                  = var.tags
  snapshot_tags                         = var.tags
  run_tags                              = var.run_tags
  run_volume_tags                       = var.run_tags

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  aws_polling {
    delay_seconds = 30
    max_attempts  = 240
  }

  source_ami_filter {
    filters     = { "name" = "debian-12-*", "root-device-type" = "ebs", "virtualization-type" = "hvm", "state" = "available" }
    owners      = ["136693071363"]
    most_recent = true
  }
}

build {
  name    = "web"
  sources = ["source.amazon-ebs.web"]

  provisioner "shell" {
    scripts          = ["${path.root}/scripts/00-probe.sh", "${path.root}/scripts/01-app.sh", "${path.root}/scripts/02-inventory.sh"]
    execute_command  = "chmod +x {{ .Path }}; . {{ .EnvVarFile }} && sh -c 'if [ \"$(id -u)\" -eq 0 ]; then exec sh -eu \"$0\"; else exec sudo -n -E sh -eu \"$0\"; fi' {{ .Path }}"
    environment_vars = ["HARDEN_DISABLE_SERVICES=cups", "DB_PASSWORD=${var.db_password}"]
    use_env_var_file = true
  }

  provisioner "file" {
    direction   = "download"
    source      = "/var/lib/packerpy/inventory.json"
    destination = "${path.root}/inventory.json"
  }
  post-processor "manifest" {
    output = "${path.root}/manifest.json"
  }
}
