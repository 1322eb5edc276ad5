"""Inventory: what is inside an image (packages, Python environments, libraries, commands), computed
from the merged filesystem view and the file contents captured while indexing. Pure: no I/O."""
