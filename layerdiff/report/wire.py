"""The diff report as typed, immutable values: what every renderer, approval and the review app read.

The classes mirror report.schema.json one to one: each attribute is named as its JSON key, nested objects
are dataclasses, arrays are tuples, nullable values ``X | None``, free-form JSON (evidence, labels, a
HEALTHCHECK, config values) a read-only ``JsonValue``. ``Report.to_json()`` gives the wire format exactly
and ``Report.from_json()`` reads it (see layerdiff.report.codec); every class has both.

Slotted and made of tuples so that a report of a million file changes stays affordable: a file change and
its two entry states are three small objects, and the values most of them share (type, mode, owner, the
changed fields) are one object each.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from layerdiff.report.codec import FORMATTED, SHARED, SHARED_FORMATTED, JsonObject, JsonValue, Wire
from layerdiff.report.package_view import ChangedPackage, changed_packages
from layerdiff.report.wire_inventory import Inventory, Packages
from layerdiff.rules.severity import Severity

# --- images and layers --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tool(Wire):
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class LayerSummary(Wire):
    position: int
    diff_id: str
    size: int
    entries: int
    instruction: str | None  # the Dockerfile instruction, from the image history
    created_by: str | None


@dataclass(frozen=True, slots=True)
class ReviewedLayer(LayerSummary):
    file_changes: int


@dataclass(frozen=True, slots=True)
class ImageSummary(Wire):
    reference: str
    image_id: str  # the config digest: the same from every source
    manifest_digest: str | None
    platform: str
    size: int  # uncompressed bytes of all layer tars
    user: str
    entrypoint: tuple[str, ...] | None
    cmd: tuple[str, ...] | None
    healthcheck: JsonObject | None
    layers: tuple[LayerSummary, ...]


@dataclass(frozen=True, slots=True)
class Comparison(Wire):
    shared_layers: int
    extends_base: bool  # the derived image starts with all of the base's layers
    reviewed_layers: tuple[ReviewedLayer, ...]


# --- changes ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileChangeCounts(Wire):
    added: int
    removed: int
    modified: int
    metadata: int

    def items(self) -> tuple[tuple[str, int], ...]:
        """(kind, count) in the report's order of kinds."""
        return (
            ("added", self.added),
            ("removed", self.removed),
            ("modified", self.modified),
            ("metadata", self.metadata),
        )


@dataclass(frozen=True, slots=True)
class Summary(Wire):
    file_changes: FileChangeCounts
    config_changes: int


@dataclass(frozen=True, slots=True)
class EntryState(Wire):
    type: str = field(metadata=SHARED_FORMATTED)  # file | dir | symlink | hardlink | char | block | fifo
    mode: str = field(metadata=SHARED_FORMATTED)  # permission bits in octal, 4 digits
    uid: int = field(metadata=SHARED)
    gid: int = field(metadata=SHARED)
    size: int
    # absent on the wire when None or empty (schema 2): a million entries need not say "null" each
    link: str | None = None
    sha256: str | None = field(default=None, metadata=FORMATTED)
    xattrs: tuple[tuple[str, str], ...] = ()  # (name, hex value) pairs; a JSON object on the wire


@dataclass(frozen=True, slots=True)
class FileChange(Wire):
    path: str  # absolute; undecodable bytes shown as \xNN escapes
    kind: str = field(metadata=SHARED_FORMATTED)  # added | removed | modified | metadata
    layer: int | None
    # absent on the wire when empty or None (schema 2): an added file has no before, a removed one no after
    fields: tuple[str, ...] = field(default=(), metadata=SHARED_FORMATTED)
    before: EntryState | None = None
    after: EntryState | None = None
    # the raw path bytes, when the path is not valid UTF-8 or had characters escaped
    path_hex: str | None = field(default=None, metadata=FORMATTED)


@dataclass(frozen=True, slots=True)
class ConfigChange(Wire):
    field: str  # User, Entrypoint, Env, Labels, ...
    key: str | None  # the variable, label, port or volume of a keyed field
    before: JsonValue
    after: JsonValue
    history_index: int | None
    instruction: str | None

    @property
    def name(self) -> str:
        """The field with its key: ``Env PATH``."""
        return self.field + (f" {self.key}" if self.key else "")


# --- the Dockerfile -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceLine(Wire):
    """Where in the Dockerfile something comes from."""

    path: str  # the Dockerfile as given to --dockerfile
    line: int  # the instruction's first line, 1-based
    end_line: int  # its last line (continuations, heredocs)
    confidence: str  # exact | likely | none (no instruction matched: the final stage's FROM line)


@dataclass(frozen=True, slots=True)
class DockerfileStep(Wire):
    """One history entry the derived Dockerfile wrote, and the instruction it was matched to."""

    history_index: int
    layer: int | None  # the layer it wrote; None for a config-only step (ENV, USER, ...)
    instruction: str | None  # from the image history
    line: int
    end_line: int
    confidence: str  # exact | likely | none


@dataclass(frozen=True, slots=True)
class DockerfileMap(Wire):
    path: str
    digest: str  # sha256 of the Dockerfile's bytes: which version the history was matched against
    stage: str | None  # the final stage's name, when it has one
    from_line: int  # the final stage's FROM
    steps: tuple[DockerfileStep, ...]


# --- verdict and findings -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeverityCounts(Wire):
    critical: int
    high: int
    medium: int
    low: int
    info: int

    def items(self) -> tuple[tuple[str, int], ...]:
        """(severity, count), most severe first."""
        return (
            ("critical", self.critical),
            ("high", self.high),
            ("medium", self.medium),
            ("low", self.low),
            ("info", self.info),
        )

    def total(self) -> int:
        return self.critical + self.high + self.medium + self.low + self.info


@dataclass(frozen=True, slots=True)
class Waiver(Wire):
    rule: str
    subject: str
    reason: str
    expires: str | None  # YYYY-MM-DD


@dataclass(frozen=True, slots=True)
class PolicyInfo(Wire):
    source: str
    digest: str


@dataclass(frozen=True, slots=True)
class Verdict(Wire):
    fail_on: str | None  # the threshold in force, a severity; None: `--fail-on none`, nothing fails
    status: str  # pass | review (nothing fails, but high or critical findings are there) | fail
    failing: int  # findings at or above fail_on
    counts: SeverityCounts
    waived: int  # findings accepted by a policy waiver
    expired_waivers: tuple[Waiver, ...]
    policy: PolicyInfo | None


@dataclass(frozen=True, slots=True)
class Finding(Wire):
    rule: str
    severity: str  # info | low | medium | high | critical
    title: str
    subject: str
    message: str
    evidence: JsonObject  # facts a reviewer can check by hand; secret values never appear
    layer: int | None
    instruction: str | None
    remediation: str
    fingerprint: str  # sha256(rule id + NUL + subject), first 32 hex digits
    doc: str
    waived: Waiver | None
    # the Dockerfile line of the instruction that caused it, when the review was given the Dockerfile
    dockerfile: SourceLine | None = None


# --- the report ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Report(Wire):
    schema_version: str
    tool: Tool
    base: ImageSummary
    derived: ImageSummary
    comparison: Comparison
    summary: Summary
    # a tuple when read from JSON; made a change at a time (layerdiff.report.lazy) when built from a diff
    file_changes: Sequence[FileChange]
    config_changes: tuple[ConfigChange, ...]
    verdict: Verdict
    findings: tuple[Finding, ...]
    inventory: Inventory
    packages: Packages
    warnings: tuple[str, ...]
    dockerfile: DockerfileMap | None = None  # with --dockerfile: each derived history entry's instruction

    def findings_at_or_above(self, severity: str) -> tuple[Finding, ...]:
        """The findings at or above ``severity`` that no policy waiver accepted."""
        threshold = Severity.parse(severity)
        return tuple(f for f in self.findings if f.waived is None and Severity.parse(f.severity) >= threshold)

    def failing_findings(self) -> tuple[Finding, ...]:
        """The findings that fail the verdict: at or above its threshold and not waived."""
        fail_on = self.verdict.fail_on
        return self.findings_at_or_above(fail_on) if fail_on is not None else ()

    def package_changes(self) -> tuple[ChangedPackage, ...]:
        """Every package change: the SBOM's, then those only the package databases or Python environments
        found (see layerdiff.report.package_view)."""
        return changed_packages(self.inventory, self.packages)


# --- layerdiff inspect --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageConfig(Wire):
    user: str
    entrypoint: tuple[str, ...] | None
    cmd: tuple[str, ...] | None
    workdir: str | None
    healthcheck: JsonObject | None
    env: tuple[str, ...]
    labels: JsonObject
    exposed_ports: tuple[str, ...]
    volumes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Inspection(Wire):
    """One image on its own (``layerdiff inspect``; inspect.schema.json)."""

    schema_version: str
    tool: Tool
    image: ImageSummary
    config: ImageConfig
