"""layerdiff: review what a derived container image changed about the image it was built FROM."""

__version__ = "0.1.0"
