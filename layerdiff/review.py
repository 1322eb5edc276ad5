"""The whole analysis as one call: ``review(base, derived)`` reads both images, diffs them, runs the rules,
applies the policy and returns the report. Every surface (``diff``, ``gate``, the review app, each output
format) consumes what this returns; none of them repeats a stage.

The caller reads the policy file (the core does no file I/O beyond the sources and the layer cache) and
chooses where progress goes.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from layerdiff.dockerfile import Dockerfile, match_history, parse_dockerfile
from layerdiff.errors import UsageError, attributed_to
from layerdiff.image.history import derived_history_start
from layerdiff.image.limits import Limits
from layerdiff.image.model import ImageSnapshot
from layerdiff.image.refs import ImageArgument, ImageRef
from layerdiff.index.cache import IndexCache
from layerdiff.pipeline import (
    BaseSide,
    LoadedImage,
    ProgressHook,
    Sboms,
    base_side,
    compare,
    layer_infos,
    load_image,
    plan_image,
    prefetch_top,
    read_layers,
    with_packages,
)
from layerdiff.policy import FailOn, Policy, apply_policy, load_policy, policy_digest
from layerdiff.report.dockerfile_map import dockerfile_map, dockerfile_warnings
from layerdiff.report.model import build_inspect, build_report
from layerdiff.report.wire import DockerfileMap, PolicyInfo
from layerdiff.rules.model import RuleContext
from layerdiff.rules.registry import all_rules, evaluate
from layerdiff.sources.base import ImageSource
from layerdiff.sources.platforms import check_platform, parse_platform
from layerdiff.sources.transports import open_source, parse_ref

if TYPE_CHECKING:
    from layerdiff.report.wire import Inspection, Report
    from layerdiff.sbom.jobs import SbomJobs


@dataclass(frozen=True)
class PolicyText:
    """A policy file as the caller read it: its text and where it came from (for messages and the digest)."""

    text: str
    source: str


@dataclass(frozen=True)
class DockerfileText:
    """The Dockerfile the derived image was built from, as the caller read it."""

    text: str
    path: str  # as findings should name it: relative to the repository root, where the build ran
    build_args: Mapping[str, str] = field(default_factory=dict)  # --build-arg NAME=VALUE, as for the build
    target: str | None = None  # --target: the stage built (default: the last)


@dataclass(frozen=True)
class ReviewOptions:
    platform: str | None = None  # OS/ARCH[/VARIANT] to pick from a multi-platform index
    sbom: bool = True  # run syft for the package inventory
    cache_dir: Path | None = None  # where layer indexes are cached; None: no cache at all
    fail_on: FailOn = None  # the command line's threshold: wins over the policy's (default: DEFAULT_FAIL_ON)
    progress: ProgressHook | None = None  # wraps each layer stream that is read
    limits: Mapping[str, str] = field(default_factory=dict)  # --limit NAME=VALUE: wins over the policy's
    today: date | None = None  # for waiver expiry; None: the current day
    dockerfile: DockerfileText | None = None  # locates each finding on the line of its instruction


def review(
    base: str | ImageArgument,
    derived: str | ImageArgument,
    options: ReviewOptions | None = None,
    policy: PolicyText | None = None,
) -> Report:
    """Compare ``derived`` with the ``base`` it was built FROM (image references as the CLI takes them;
    one read from a file says so, and its errors name that file)."""
    options = options or ReviewOptions()
    rules_policy = load_policy(policy.text, policy.source) if policy else Policy.default()
    limits = rules_policy.limits.with_values(options.limits, "--limit")
    if options.dockerfile is not None:
        _parse_dockerfile(options.dockerfile, None)  # a Dockerfile that does not parse fails before any image
    with ExitStack() as stack:
        cache = _cache(options, stack)
        images = [_argument(base), _argument(derived)]
        opened = [_open_image(image, options, limits, stack) for image in images]
        snapshots = [snapshot for _, _, snapshot in opened]
        with attributed_to(images[1].origin):
            # before syft is looked for; a top layer the base has is the base's to give
            base_layers = set(snapshots[0].diff_ids)
            derived_top = prefetch_top(opened[1][1], cache, snapshots[1], limits, elsewhere=base_layers)
        jobs = _sbom_jobs(options, cache, limits, stack)
        loaded: list[LoadedImage] = []
        prepared: BaseSide | None = None
        for image, (ref, source, snapshot) in zip(images, opened, strict=True):
            if jobs is not None:
                jobs.prepare(ref, snapshot, source)  # an engine's export is then read once, for both
            with attributed_to(image.origin):
                # the derived image takes the layers it shares with the base from the base
                known = (
                    {**{index.diff_id: index for index in loaded[0].indexes}, **derived_top}
                    if loaded
                    else None
                )
                plan = plan_image(source, cache, limits, snapshot, known=known)
            if loaded and plan.missing:
                # the derived image's source is preparing its layers (an engine export takes a while to
                # start): the base's tree and inventory are made meanwhile, and the rule catalog loaded
                prepared = base_side(loaded[0], limits, early=True)
                all_rules()
            with attributed_to(image.origin):
                loaded.append(read_layers(plan, options.progress))
            if jobs is not None:
                # syft unpacks an image's layers to disk: it starts on an image only once every layer
                # passed our own bounded read (a bomb is refused first), and runs while the next is read;
                # on an engine export copied for it (uncompressed, bounded) it may have started already
                jobs.start(ref, snapshot)
        base_image, derived_image = loaded
        # the diff is made while syft still scans; only its package changes wait for the SBOMs
        diff = compare(prepared or base_image, derived_image, None, limits)
        if jobs is not None:
            sboms = Sboms(jobs.tool, jobs.packages(snapshots[0]), jobs.packages(snapshots[1]))
            diff = with_packages(diff, derived_image, sboms)
    findings = evaluate(
        RuleContext(diff, base_image.snapshot, derived_image.snapshot, derived_image.indexes, limits)
    )
    outcome = apply_policy(rules_policy, findings, options.today or date.today(), options.fail_on)
    info = PolicyInfo(policy.source, policy_digest(policy.text)) if policy else None
    located, warnings = _dockerfile_map(
        options.dockerfile, base_image.snapshot, derived_image.snapshot, diff.shared_layers
    )
    return build_report(base_image.snapshot, derived_image.snapshot, diff, outcome, info, located, warnings)


def _parse_dockerfile(source: DockerfileText, base: ImageSnapshot | None) -> Dockerfile:
    # the base's environment lets `$PATH` and the like be substituted as the build substituted them
    env = _environment(base.runtime_config) if base is not None else None
    return parse_dockerfile(
        source.text, source.build_args, target=source.target, base_env=env, name=source.path
    )


def _environment(config: Mapping[str, Any]) -> dict[str, str]:
    pairs = (entry.partition("=") for entry in config.get("Env") or () if isinstance(entry, str))
    return {name: value for name, separator, value in pairs if separator}


def _dockerfile_map(
    source: DockerfileText | None, base: ImageSnapshot, derived: ImageSnapshot, shared_layers: int
) -> tuple[DockerfileMap | None, tuple[str, ...]]:
    """The report's Dockerfile map, and the warnings that say it may be the wrong file."""
    if source is None:
        return None, ()
    dockerfile = _parse_dockerfile(source, base)
    start = derived_history_start(base.history, derived.history, shared_layers)
    matches = match_history(dockerfile, derived.history, start)
    located = dockerfile_map(source.path, source.text, dockerfile, matches, derived)
    return located, dockerfile_warnings(source.path, dockerfile, matches)


def inspect_image(image: str, options: ReviewOptions | None = None) -> Inspection:
    """One image on its own: identity, config and layers (``layerdiff inspect``)."""
    options = options or ReviewOptions()
    with ExitStack() as stack:
        cache = _cache(options, stack)
        limits = Limits().with_values(options.limits, "--limit")
        source = _open(parse_ref(image), options, limits, stack)
        snapshot = _snapshot(source, options)
        loaded: LoadedImage = load_image(source, cache, options.progress, limits, snapshot=snapshot)
    return build_inspect(loaded.snapshot, layer_infos(loaded))


def compare_sboms(a: tuple[str, str], b: tuple[str, str]) -> dict[str, Any]:
    """``sbom-diff``: the package changes from SBOM document ``a`` to ``b``, each a (name, text) pair, past
    the same output boundary as a report."""
    from layerdiff.diff.sbom_files import read_sbom, sbom_diff_report
    from layerdiff.report.boundary import clean_document
    from layerdiff.text.redaction import Redactor

    (a_name, a_text), (b_name, b_text) = a, b
    document = sbom_diff_report(a_name, b_name, read_sbom(a_text, a_name), read_sbom(b_text, b_name))
    return clean_document(document, Redactor(()))


def _open(ref: ImageRef, options: ReviewOptions, limits: Limits, stack: ExitStack) -> ImageSource:
    if options.platform:
        parse_platform(options.platform)
    source = open_source(ref, options.platform, limits)
    stack.callback(source.close)
    return source


def _open_image(
    image: ImageArgument, options: ReviewOptions, limits: Limits, stack: ExitStack
) -> tuple[ImageRef, ImageSource, ImageSnapshot]:
    with attributed_to(image.origin):
        ref = parse_ref(image.text)
        source = _open(ref, options, limits, stack)
        return ref, source, _snapshot(source, options)


def _snapshot(source: ImageSource, options: ReviewOptions) -> ImageSnapshot:
    snapshot = source.snapshot()
    check_platform(snapshot.platform, options.platform, snapshot.reference)
    return snapshot


def _argument(image: str | ImageArgument) -> ImageArgument:
    return image if isinstance(image, ImageArgument) else ImageArgument(image)


def _cache(options: ReviewOptions, stack: ExitStack) -> IndexCache:
    try:
        cache = IndexCache(options.cache_dir)
    except OSError as exc:
        raise UsageError(f"cannot use the cache directory: {exc}") from exc
    stack.callback(cache.close)
    return cache


def _sbom_jobs(
    options: ReviewOptions, cache: IndexCache, limits: Limits, stack: ExitStack
) -> SbomJobs | None:
    if not options.sbom:
        return None
    from layerdiff.sbom.jobs import SbomJobs
    from layerdiff.sbom.syft import find_syft

    jobs = SbomJobs(find_syft(), cache, options.platform, limits)
    stack.callback(jobs.close)
    return jobs
