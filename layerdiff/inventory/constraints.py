"""The pip constraints file an image ships for its users: Apache Airflow's images (2.9 and later) keep the
constraints they were built with at ``${HOME}/constraints.txt``, and tell users to install with
``pip install -c ~/constraints.txt``. What a derived image installs outside them is a combination the
base was never tested with.

A constraints file is a requirements file of pins (``name==version``, sometimes with a marker); options,
includes, URLs and editables constrain nothing by name and are passed over, as are lines that do not
parse. At most ``package-relations`` constraints, each at most ``package-field-bytes``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from layerdiff.fs.view import ImageFiles
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.image.paths import display
from layerdiff.index.capture import Capture
from layerdiff.inventory.package_bounds import check_count, check_fields
from layerdiff.inventory.python import marker_holds

NAME = "constraints.txt"
# Where images keep it: the runtime user's HOME (Airflow's /home/airflow), or root's
CAPTURE = Capture(patterns=(f"/home/*/{NAME}", f"/root/{NAME}"))


@dataclass(frozen=True)
class Constraint:
    name: str  # canonical
    requirement: str  # as written (without a comment)
    line: int  # 1-based, in the file


@dataclass(frozen=True)
class Constraints:
    path: str
    by_name: dict[str, Constraint]

    def violated_by(self, name: str, version: str, python_version: str) -> Constraint | None:
        """The constraint that does not allow ``version`` of ``name`` under Python ``python_version``;
        None when none applies or it allows it (a version that is not PEP 440 cannot be judged)."""
        constraint = self.by_name.get(canonicalize_name(name))
        if constraint is None:
            return None
        requirement = Requirement(constraint.requirement)
        marker = requirement.marker
        if marker is not None and not marker_holds(marker, python_version):
            return None
        try:
            allowed = requirement.specifier.contains(Version(version), prereleases=True)
        except InvalidVersion:
            return None
        return None if allowed else constraint


def read_constraints(files: ImageFiles, home: str, limits: Limits = DEFAULT_LIMITS) -> Constraints | None:
    """The constraints file in ``home`` (the runtime user's HOME), when there is one."""
    path = posixpath.join(home, NAME)
    data = files.read(path)
    if data is None:
        return None
    constraints: dict[str, Constraint] = {}
    lines = data.decode("utf-8", "replace").splitlines()
    try:
        pins = sum(1 for line in lines if line.strip() and not line.lstrip().startswith("#"))
        check_count(path, pins, limits)
        for number, raw in enumerate(lines, 1):
            text = raw.split(" #", 1)[0].strip()
            if not text or text.startswith(("#", "-")):
                continue
            check_fields(path, (text,), limits)
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            if requirement.url is None:
                name = canonicalize_name(requirement.name)
                constraints.setdefault(name, Constraint(name, text, number))
    except LimitExceeded as exc:
        raise exc.within(display(path)) from None
    return Constraints(path, constraints)
