"""Pure comparison of a base image and a derived image."""
