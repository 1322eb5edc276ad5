"""Renderers: turn a finished report into text for people or machines. Pure functions of the report."""
