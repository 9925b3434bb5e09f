"""verify: policy checks of a published version and a launch test; the verdict is tagged on
the AMI."""
