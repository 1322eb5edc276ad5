"""``python -m tests.fuzz --seconds N [--target NAME]``: see tests/fuzz/runner.py."""

from __future__ import annotations

import sys

from tests.fuzz.runner import main

sys.exit(main())
