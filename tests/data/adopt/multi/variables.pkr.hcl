variable "region" {
  type    = string
  default = "us-east-1"
}

variable "endpoint" {
  type    = string
  default = ""
}

variable "name_prefix" {
  type    = string
  default = "multi"
}
