"""The review policy (``.layerdiff.toml``): threshold, disabled rules, path ignores, severity overrides and
waivers, parsed from TOML text and applied to findings.

Pure: the CLI finds and reads the file and passes its text; nothing here touches the filesystem or the
clock (``today`` is a parameter). Every mistake in the file is a ``UsageError`` whose one-line message names
the file and line (``.layerdiff.toml:7: ...``), so a user can fix it without guessing. The schema and its
semantics are documented in ``docs/policy.md``.
"""

from layerdiff.policy.model import (
    DEFAULT_FAIL_ON,
    NO_THRESHOLD,
    POLICY_FILENAME,
    ApprovalRules,
    DroppedFinding,
    FailOn,
    Policy,
    PolicyOutcome,
    Waiver,
    apply_policy,
    effective_threshold,
    parse_fail_on,
    path_glob,
    policy_digest,
)
from layerdiff.policy.reader import load_policy

__all__ = [
    "DEFAULT_FAIL_ON",
    "NO_THRESHOLD",
    "POLICY_FILENAME",
    "ApprovalRules",
    "DroppedFinding",
    "FailOn",
    "Policy",
    "PolicyOutcome",
    "Waiver",
    "apply_policy",
    "effective_threshold",
    "load_policy",
    "parse_fail_on",
    "path_glob",
    "policy_digest",
]
