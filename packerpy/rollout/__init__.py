"""Blue-green/canary and rolling rollouts of a channel's AMI to an Auto Scaling group."""
