"""verify: policy checks of a published version and a launch test; the verdict tagged on the AMI."""
