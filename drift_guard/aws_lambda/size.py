"""Where the megabytes are: the package's unzipped size by distribution, the layers' size on
top (Lambda's 250 MB counts function code and layers together), and what each remedy saves:
leaving out deploy-time-only packages (Zappa and what only it needs, pip, setuptools, wheel)
and the packages the runtime provides (boto3, botocore...)."""

from __future__ import annotations

from drift_guard.aws_lambda.artifact import MB, Artifact
from drift_guard.aws_lambda.checks import LambdaFinding, record_of
from drift_guard.aws_lambda.target import Target
from drift_guard.errors import DriftGuardError
from drift_guard.models import Installed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable, List, Mapping, NamedTuple, Optional, Set, Tuple

    from drift_guard.aws_lambda.checks import Reader
else:
    from drift_guard._record import NamedTuple

DEPLOY_TOOLS = ("pip", "setuptools", "wheel", "drift-guard")


class PackageSize(NamedTuple):
    name: str
    version: str
    size: int
    role: str
    """"app", "deploy-time" (not needed at run time) or "runtime-provided"."""


class SizeReport(NamedTuple):
    package: int
    """Unzipped bytes of the function package."""
    layers: Tuple[Tuple[str, Optional[int]], ...]
    budget: int
    packages: Tuple[PackageSize, ...]
    """Largest first."""
    remedies: Tuple[Tuple[str, int], ...]
    """(what to do, bytes it saves)."""

    @property
    def total(self) -> int:
        return self.package + sum(s or 0 for _, s in self.layers)


def measure(artifact: Artifact, dists: Iterable[Installed], read: Reader, target: Target,
            deploy_time: Set[str], needed: Set[str], budget_mb: float) -> SizeReport:
    """The size report of `artifact`, whose distributions are `dists` (read with `read`)."""
    sizes: List[PackageSize] = []
    for dist in dists:
        try:
            files = record_of(dist, read)
        except DriftGuardError:
            files = []
        size = 0
        for p in files:
            size += artifact.files.get(p, 0) + artifact.files.get(p + "c", 0)
        if dist.name in target.provided:
            role = "runtime-provided"
        elif dist.name in deploy_time and dist.name not in needed:
            role = "deploy-time"
        else:
            role = "app"
        sizes.append(PackageSize(dist.name, dist.version, size, role))
    sizes.sort(key=lambda s: (-s.size, s.name))
    remedies = []
    deploy = [s for s in sizes if s.role == "deploy-time" and s.size]
    if deploy:
        remedies.append((f"leave out the deploy-time-only packages ({_names(deploy)}): exclude "
                         "them, or keep deploy tools out of the packaged environment",
                         sum(s.size for s in deploy)))
    provided = [s for s in sizes if s.role == "runtime-provided" and s.size]
    if provided:
        remedies.append((f"leave out what {target.runtime.name} provides ({_names(provided)}), "
                         "if the code works with the runtime's versions",
                         sum(s.size for s in provided)))
    layers = tuple((layer.name, layer.size) for layer in target.layers)
    return SizeReport(artifact.unzipped_size, layers, int(budget_mb * MB), tuple(sizes),
                      tuple(remedies))


def _names(sizes: List[PackageSize]) -> str:
    shown = [f"{s.name} {s.size / MB:.1f} MB" for s in sizes[:4]]
    if len(sizes) > 4:
        shown.append(f"{len(sizes) - 4} more")
    return ", ".join(shown)


def size_finding(report: SizeReport, what: str = "the package",
                 budget_name: str = "the budget is") -> Optional[LambdaFinding]:
    if report.total <= report.budget:
        return None
    layers = ""
    known = [(n, s) for n, s in report.layers if s]
    if known:
        layers = f" plus {sum(s for _, s in known) / MB:.1f} MB of layers"
    top = ", ".join(f"{p.name} {p.size / MB:.1f} MB" + ("" if p.role == "app" else f" ({p.role})")
                    for p in report.packages[:3] if p.size >= MB // 10)
    hint = "; ".join(f"{r} (saves {s / MB:.1f} MB)" for r, s in report.remedies)
    hint = hint or ("exclude what the function does not need, move big dependencies to a "
                    "layer, or (Zappa) set \"slim_handler\": true")
    return LambdaFinding(
        "size", "size",
        f"{what} unzips to {report.package / MB:.1f} MB{layers}; {budget_name} "
        f"{report.budget / MB:g} MB" + (f"; largest: {top}" if top else ""),
        hint)


def zappa_closure(installed: Mapping[str, Installed], markers: Mapping[str, str]) -> Set[str]:
    """Zappa and everything it needs, in the environment that is packaged."""
    from drift_guard.compare import closure

    if "zappa" not in installed:
        return set()
    return closure([("zappa", frozenset())], installed, markers)
