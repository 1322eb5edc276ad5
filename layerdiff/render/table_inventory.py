"""The table's inventory sections: the runtime user, Python problems, commands, libraries, OS package problems
and the package changes, each list cut to its first few entries with a count of the rest."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from rich.console import Console
from rich.text import Text

from layerdiff.render.table_layout import bulleted, columns, head, print_more, title
from layerdiff.report.wire import Report
from layerdiff.report.wire_inventory import (
    BrokenDependency,
    Command,
    CommandChange,
    Distribution,
    LibraryChange,
    LostDistribution,
    ModifiedFile,
    RuntimeUser,
    ShadowedDistribution,
    UnsatisfiedRequirement,
)
from layerdiff.text.words import listed

_Item = TypeVar("_Item")


def print_inventory(console: Console, report: Report) -> None:
    inventory = report.inventory
    users = inventory.runtime_user
    if users.base != users.derived:
        console.print()
        console.print(Text(f"runtime user: {_who(users.base)} -> {_who(users.derived)}", style="bold"))
    python, os_packages = inventory.python, inventory.os_packages
    _section(console, "New pip check problems", "pip check problem", python.unsatisfied, _unsatisfied)
    _section(console, "No longer importable", "distribution", python.lost, _lost)
    _section(console, "Shadowed distributions", "shadowed distribution", python.shadowed, _shadowed)
    _section(console, "Commands on PATH", "command", inventory.commands, _command)
    _section(console, "Shared libraries", "library change", inventory.libraries, _library)
    _section(console, "Unmet dependencies", "unmet dependency", os_packages.broken_dependencies, _unmet)
    _section(console, "Package files changed", "package file", os_packages.modified_files, _modified)
    _package_changes(console, report)


def _package_changes(console: Console, report: Report) -> None:
    changes = report.package_changes()
    if not changes:
        return
    from_sbom = any(change.from_sbom for change in changes)
    shown, hidden = head(changes)
    table = columns("type", "name", "change", "before", "after", "layer" if from_sbom else "where")
    for change in shown:
        where = change.layer if from_sbom else change.qualifier
        table.add_row(
            *(
                Text(value or "")
                for value in (change.type, change.name, change.kind, change.before, change.after)
            ),
            Text("" if where is None else str(where)),
        )
    source = f", from {report.packages.sbom_tool}" if from_sbom and report.packages.sbom_tool else ""
    console.print()
    console.print(title(f"Package changes ({len(changes)}{source})"))
    console.print(table)
    print_more(console, hidden, "package change")


def _section(
    console: Console, heading: str, noun: str, items: Sequence[_Item], describe: Callable[[_Item], str]
) -> None:
    """A heading with the count, the first few items as a line each, and the count of the rest (``noun``:
    what one item is)."""
    if not items:
        return
    shown, hidden = head(items)
    console.print()
    console.print(title(heading, len(items)))
    console.print(bulleted([describe(item) for item in shown]))
    print_more(console, hidden, noun)


def _unsatisfied(item: UnsatisfiedRequirement) -> str:
    return f"{item.message}  [{item.environment}]"


def _lost(item: LostDistribution) -> str:
    via = f", {item.via}" if item.via else ""
    return f"{item.name} {item.version} from {item.location} ({item.cause}{via})  [{item.environment}]"


def _shadowed(item: ShadowedDistribution) -> str:
    hidden = listed([_located(h) for h in item.hidden])  # the first few, "and N more"
    return f"{item.name} {_located(item.winner)} hides {hidden}  [{item.environment}]"


def _command(change: CommandChange) -> str:
    used = f"  (used by {change.used_by})" if change.used_by else ""
    return f"{change.name}: {_where(change.before)} -> {_where(change.after)}{used}"


def _library(change: LibraryChange) -> str:
    before = (change.before.path if change.before else None) or "-"
    after = change.after.path or "not found"
    return f"{change.soname} of {change.object}: {change.kind}, {before} -> {after}"


def _unmet(broken: BrokenDependency) -> str:
    return f"{broken.package}: {broken.field}: {broken.detail}"


def _modified(modified: ModifiedFile) -> str:
    return f"{modified.dpkg_verify} ({modified.package})"


def _who(user: RuntimeUser) -> str:
    return f"{user.user or '(root)'} (uid {user.uid}, HOME {user.home})"


def _where(command: Command | None) -> str:
    if command is None:
        return "-"
    return command.path if command.path == command.target else f"{command.path} ({command.target})"


def _located(distribution: Distribution) -> str:
    return f"{distribution.version} in {distribution.location}"
