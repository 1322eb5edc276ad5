"""The squashed filesystem of an image, built from layer indexes without extracting anything."""
