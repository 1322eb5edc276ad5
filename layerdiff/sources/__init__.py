"""Image sources: everything that reads bytes of an image from outside the process."""
