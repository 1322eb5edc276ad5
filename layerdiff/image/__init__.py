"""The image model every stage shares: images, layers, entries, history, paths and byte streams."""
