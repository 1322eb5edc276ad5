"""Layer indexing: tar headers and content digests, read once per layer and cached by diff_id."""
