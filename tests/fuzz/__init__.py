"""Fuzzing layerdiff with hypothesis: strategies that mutate the project's fixtures and small built images,
fed to the sources, the indexer, the inventory readers and review() end to end. An input passes when the
code returns or raises a layerdiff error; any other exception, or a run past the per-input bound, fails.

``test_fuzz.py`` is the bounded CI run (about two minutes), ``python -m tests.fuzz --seconds N`` a
developer's longer one; see docs/fuzzing.md.
"""
