"""SBOMs: running syft (the only I/O here besides image sources) and reading CycloneDX documents."""
