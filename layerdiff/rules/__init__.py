"""Rules turn an image diff into findings: each with a stable id, a severity, evidence a reviewer can check
by hand, the layer and instruction that caused it, and a remediation. Pure functions of the diff."""
