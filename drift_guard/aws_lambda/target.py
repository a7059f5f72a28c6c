"""The target: the Lambda runtime a package will run on, described once and used for every
check -- marker and Requires-Python evaluation, the dependency closure, native code, size.

It is built from the `lambda` options (`[tool.drift-guard.lambda]`, a Zappa stage's
`"drift_guard": {"lambda": ...}`, or the `drift-guard lambda` command line).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from drift_guard._names import canonical
from drift_guard.aws_lambda import runtimes as rt
from drift_guard.errors import DriftGuardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, NamedTuple, Optional, Tuple
else:
    from drift_guard._record import NamedTuple

DEFAULT_MAX_UNZIPPED_MB = 250
"""Lambda's limit for the unzipped function code, layers included (262,144,000 bytes)."""
DEFAULT_EPHEMERAL_MB = 512
"""Lambda's default /tmp size, where Zappa's slim_handler unpacks the project archive."""
MB = 1024 * 1024

ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}
"""Lambda's architecture names -> the machine names of wheels and ELF."""
LEVELS = ("error", "warn", "off")


class Layer(NamedTuple):
    name: str
    """The layer's ARN, the name the configuration gives it, or the zip's file name."""
    provides: Mapping[str, str]
    """canonical name -> version of the packages it brings (under /opt/python)."""
    size: Optional[int] = None
    """Unzipped bytes, where known."""
    path: Optional[str] = None
    """The local zip it was read from."""


class LambdaOptions(NamedTuple):
    max_unzipped_mb: float = DEFAULT_MAX_UNZIPPED_MB
    runtime: str = "warn"
    """What a deprecated (not yet blocked) runtime is: "warn", "error" or "off". A blocked
    one always stops, unless "off"."""
    platform: str = "error"
    """What native code the runtime cannot load is."""
    python: str = "error"
    """What a virtualenv Python other than the runtime's is."""
    target_runtime: Optional[str] = None
    """`runtime = "python3.12"`: the runtime the package is for (the `lambda` command)."""
    architecture: Optional[str] = None
    runtimes: Mapping[str, Mapping[str, datetime.date]] = {}
    """Configured dates, overriding the built-in table."""
    layers: Tuple[Layer, ...] = ()
    """Layers the configuration describes (what each provides, its size)."""
    layer_zips: Tuple[str, ...] = ()


KNOWN = ("max-unzipped-mb", "runtime", "architecture", "platform", "python", "runtimes",
         "layers")


def lambda_options(table: Mapping[str, Any], where: str, path: Optional[str] = None,
                   base: Optional[LambdaOptions] = None) -> LambdaOptions:
    """Validate a `lambda` table (`-` and `_` spellings alike); its keys replace `base`'s."""
    values: Dict[str, Any] = {}
    for raw_key, value in table.items():
        key = str(raw_key).replace("-", "_")
        spelled = f"{where}.{raw_key}"
        if key == "max_unzipped_mb":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise DriftGuardError(f"{spelled} must be a positive number of megabytes, e.g. 250",
                                      path=path)
            values[key] = value
        elif key == "runtime":
            if value in LEVELS:
                values["runtime"] = value
            elif isinstance(value, str) and rt.parse_name(value) is not None:
                values["target_runtime"] = value
            else:
                raise DriftGuardError(
                    f"{spelled} must be a Lambda runtime such as \"python3.12\", or one of "
                    f"{', '.join(map(repr, LEVELS))} (what a deprecated runtime is)", path=path)
        elif key in ("platform", "python"):
            if value not in LEVELS:
                raise DriftGuardError(f"{spelled} must be one of {', '.join(map(repr, LEVELS))}",
                                      path=path)
            values[key] = value
        elif key == "architecture":
            if value not in ARCHITECTURES:
                raise DriftGuardError(f"{spelled} must be \"x86_64\" or \"arm64\"", path=path)
            values[key] = value
        elif key == "runtimes":
            values[key] = rt.parse_overrides(value, spelled, path=path)
        elif key == "layers":
            values["layers"], values["layer_zips"] = _layers(value, spelled, path)
        else:
            raise DriftGuardError(f"unknown setting {spelled!r}; known settings: "
                                  f"{', '.join(KNOWN)}", path=path)
    if "runtimes" in values and base is not None:
        values["runtimes"] = {**base.runtimes, **values["runtimes"]}
    return (base or LambdaOptions())._replace(**values)


def _layers(value: Any, where: str, path: Optional[str]
            ) -> Tuple[Tuple[Layer, ...], Tuple[str, ...]]:
    """`layers = ["layer.zip", ...]` (local zips to read) or
    `layers = {"arn:...:layer:numpy:3" = {provides = {numpy = "1.26.4"}, size-mb = 80}}`."""
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise DriftGuardError(f"{where} must be a list of layer zip paths, or a table of "
                                  "layers", path=path)
        return (), tuple(value)
    if not isinstance(value, Mapping):
        raise DriftGuardError(f"{where} must be a table of layers (name -> {{provides, size-mb}}) "
                              "or a list of layer zips", path=path)
    layers = []
    zips = []
    for name, spec in value.items():
        spelled = f"{where}.{name}"
        if not isinstance(spec, Mapping):
            raise DriftGuardError(f"{spelled} must be a table with provides, size-mb or zip",
                                  path=path)
        provides: Dict[str, str] = {}
        size = None
        for raw_key, item in spec.items():
            key = str(raw_key).replace("-", "_")
            if key == "provides":
                if isinstance(item, list) and all(isinstance(v, str) for v in item):
                    item = dict.fromkeys(item, "")
                if not isinstance(item, Mapping) or not all(
                        isinstance(v, str) for v in item.values()):
                    raise DriftGuardError(f"{spelled}.{raw_key} must map package names to "
                                          "versions, e.g. {numpy = \"1.26.4\"}", path=path)
                provides = {canonical(str(k)): v for k, v in item.items()}
            elif key == "size_mb":
                if isinstance(item, bool) or not isinstance(item, (int, float)) or item < 0:
                    raise DriftGuardError(f"{spelled}.{raw_key} must be a number of megabytes",
                                          path=path)
                size = int(item * MB)
            elif key == "zip":
                if not isinstance(item, str):
                    raise DriftGuardError(f"{spelled}.{raw_key} must be a path", path=path)
                zips.append(item)
            else:
                raise DriftGuardError(f"unknown setting {spelled}.{raw_key}; known settings: "
                                      "provides, size-mb, zip", path=path)
        layers.append(Layer(str(name), provides, size))
    return tuple(layers), tuple(zips)


class Target(NamedTuple):
    runtime: rt.Runtime
    architecture: str
    """"x86_64" or "arm64" (Lambda's names)."""
    provided: Tuple[str, ...] = rt.RUNTIME_PROVIDED
    layers: Tuple[Layer, ...] = ()

    @property
    def python(self) -> Tuple[int, int]:
        return self.runtime.python

    @property
    def machine(self) -> str:
        return ARCHITECTURES.get(self.architecture, self.architecture)

    @property
    def glibc(self) -> Tuple[int, int]:
        return self.runtime.glibc

    def describe(self) -> str:
        g = self.glibc
        return (f"{self.runtime.name} on {self.architecture} ({self.runtime.os}, glibc "
                f"{g[0]}.{g[1]})")

    def layer_providing(self, name: str) -> Optional[Layer]:
        for layer in self.layers:
            if name in layer.provides:
                return layer
        return None


def make_target(runtime: str, architecture: str, options: LambdaOptions,
                layers: Tuple[Layer, ...] = ()) -> Target:
    if architecture not in ARCHITECTURES:
        raise DriftGuardError(f"architecture {architecture!r}: Lambda has x86_64 and arm64")
    return Target(rt.lookup(runtime, options.runtimes), architecture, rt.RUNTIME_PROVIDED,
                  layers)


def markers(target: Target) -> Dict[str, str]:
    """The PEP 508 marker environment of Lambda's runtime (not of any local Python)."""
    major, minor = target.python
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{major}.{minor}.0",
        "os_name": "posix",
        "platform_machine": target.machine,
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{major}.{minor}.0",
        "platform_python_implementation": "CPython",
        "python_version": f"{major}.{minor}",
        "sys_platform": "linux",
    }


def read_layer_zip(path: str) -> Layer:
    """A local layer zip: the packages under python/ (or python/lib/pythonX.Y/site-packages/)
    and its unzipped size."""
    from drift_guard.aws_lambda.artifact import distributions, open_artifact, site_root

    with open_artifact(path) as art:
        dists = distributions(art, site_root(art))
        return Layer(art.name, {n: d.version for n, d in dists.items()}, art.unzipped_size, path)
