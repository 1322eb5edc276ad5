"""Text that leaves the core, and the words it is made of: credential detection and redaction, terminal
safety, counted and listed wording. The lowest layer: it imports nothing else of layerdiff."""
