build {
  name    = "both"
  sources = ["source.amazon-ebs.small", "source.amazon-ebs.large"]

  post-processors {
    post-processor "manifest" {
      output = "multi-manifest.json"
    }
    post-processor "shell-local" {
      inline = ["echo built ${build.ID}"]
    }
  }
}
