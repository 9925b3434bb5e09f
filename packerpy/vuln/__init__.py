"""What is in an image: SBOM (CycloneDX) from the inventory, offline OSV vulnerability scan."""
