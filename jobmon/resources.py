"""Compute resources: parsing, precedence, and scaling after a resource error (pure)."""

from __future__ import annotations

import copy
import math
import re
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jobmon.errors import InvalidMemoryFormat, InvalidResources

# Keys every cluster understands. Other keys pass through to the plugin, which validates them.
CORE_KEYS = ("cores", "memory", "runtime", "queue", "project", "stdout", "stderr")

_MEMORY_UNITS = {"": 1024, "K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}
# "B" and "iB" only after a unit letter: "100B" is not 100 GiB.
_MEMORY_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:I?B)?)?\s*$", re.IGNORECASE)
# a unit letter or word: 90s, 30m, 2h, 1d, and as Jobmon reads them 10min, 2hrs, 30 seconds
_DURATION_UNIT = r"(d(?:ays?)?|h(?:(?:ou)?rs?)?|m(?:in(?:ute)?s?)?|s(?:ec(?:ond)?s?)?)"
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*" + _DURATION_UNIT, re.IGNORECASE)
_DURATION_FULL_RE = re.compile(
    r"^\s*(?:\d+(?:\.\d+)?\s*" + _DURATION_UNIT + r"\s*)+$", re.IGNORECASE)
_CLOCK_RE = re.compile(r"^\s*(?:(\d+)-)?(\d+):(\d{1,2})(?::(\d{1,2}))?\s*$")
_SECONDS_PER = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_memory_mib(value: object) -> int:
    """Memory in MiB. A bare number means GiB, as in Jobmon; strings take K, M, G or T."""
    if isinstance(value, bool):
        raise InvalidMemoryFormat(f"memory={value!r}: expected a size such as '512M' or '4G'")
    if isinstance(value, int | float):
        mib = float(value) * 1024
    elif isinstance(value, str) and (match := _MEMORY_RE.match(value)):
        mib = float(match.group(1)) * _MEMORY_UNITS[(match.group(2) or "").upper()]
    else:
        raise InvalidMemoryFormat(
            f"memory={value!r} is not a size: use a number with a unit such as "
            "'512M', '4G' or '1.5T' (a bare number means GiB)"
        )
    if not math.isfinite(mib) or mib <= 0:
        raise InvalidResources(f"memory={value!r} must be greater than zero")
    return max(1, math.ceil(mib))


def _is_number(text: str) -> bool:
    stripped = text.strip()  # ASCII only: "²".isdigit() is True but float("²") fails
    return stripped.isascii() and stripped.replace(".", "", 1).isdigit()


def parse_runtime_seconds(value: object) -> int:
    """Runtime in seconds, from seconds, '30m', '2h', '1h30m', 'HH:MM:SS' or 'D-HH:MM:SS'."""
    if isinstance(value, bool):
        raise InvalidResources(f"runtime={value!r}: expected a duration such as '30m' or '2h'")
    seconds: float
    if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
        seconds = float(value)
    elif isinstance(value, str) and _DURATION_FULL_RE.match(value):
        seconds = sum(
            float(number) * _SECONDS_PER[unit[0].lower()]
            for number, unit in _DURATION_RE.findall(value)
        )
    elif isinstance(value, str) and (match := _CLOCK_RE.match(value)):
        days, first, second, third = match.groups()
        if third is None and days is not None:  # D-HH:MM as in Slurm's --time
            hours, minutes, secs = int(first), int(second), 0
        elif third is None:  # MM:SS as in Slurm's --time
            hours, minutes, secs = 0, int(first), int(second)
        else:
            hours, minutes, secs = int(first), int(second), int(third)
        seconds = int(days or 0) * 86400 + hours * 3600 + minutes * 60 + secs
    else:
        raise InvalidResources(
            f"runtime={value!r} is not a duration: use seconds, or a value such as "
            "'90s', '30m', '2h', '1h30m', '01:30:00' or '1-00:00:00'"
        )
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidResources(f"runtime={value!r} must be greater than zero")
    return math.ceil(seconds)


def parse_cores(value: object) -> int:
    """A positive whole number of cores."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidResources(f"cores={value!r}: expected a whole number such as 1 or 4")
    try:
        cores = int(value)
    except ValueError:
        raise InvalidResources(f"cores={value!r}: expected a whole number such as 1 or 4") from None
    if cores <= 0:
        raise InvalidResources(f"cores={value!r} must be at least 1")
    return cores


def normalize(resources: Mapping[str, Any]) -> dict[str, Any]:
    """Turn user input into canonical resources: memory in MiB, runtime in seconds, cores int.

    Call it once, where user input enters; canonical values are not user input (a bare
    memory number means GiB to users but MiB once canonical). Unknown keys are kept for
    the cluster's own check.
    """
    out: dict[str, Any] = {}
    for key, value in resources.items():
        if not isinstance(key, str) or not key:
            raise InvalidResources(f"resource name {key!r} must be a non-empty string")
        if value is None:
            continue
        if key == "memory":
            out[key] = parse_memory_mib(value)
        elif key == "runtime":
            out[key] = parse_runtime_seconds(value)
        elif key == "cores":
            out[key] = parse_cores(value)
        elif key in ("queue", "project", "stdout", "stderr"):
            if not isinstance(value, str) or not value.strip():
                raise InvalidResources(f"{key}={value!r}: expected a non-empty name")
            out[key] = value.strip()
        elif isinstance(value, str | int | float | bool):
            out[key] = value
        else:
            raise InvalidResources(
                f"resource {key}={value!r}: values must be strings or numbers"
            )
    return out


def merge(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge resource layers, later ones winning (pass Tool, Workflow, TaskTemplate, Task)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer:
            merged.update(layer)
    return merged


def format_memory(mib: int) -> str:
    """'4G' for 4096, '1536M' otherwise."""
    return f"{mib // 1024}G" if mib % 1024 == 0 else f"{mib}M"


def format_runtime(seconds: int) -> str:
    """Slurm's D-HH:MM:SS (or HH:MM:SS below a day)."""
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}-{clock}" if days else clock


# ---------------------------------------------------------------- scaling after resource errors

DEFAULT_RESOURCE_SCALES: dict[str, float] = {"memory": 0.5, "runtime": 0.5}
SCALABLE_KEYS = ("memory", "runtime", "cores")
# The wire form of absolute values, one per resource error: {"values": [...]}, canonical units.
VALUES = "values"


class ScaleValues:
    """An iterator of absolute values, one per resource error (Jobmon's ``iter([80, 160])``).

    Values are read lazily and remembered: every task the iterator was given to sees the
    whole sequence (as Jobmon gives each task a copy), and an endless iterator is read only
    as far as the attempts go.
    """

    __slots__ = ("_iterator", "_seen")

    def __init__(self, iterator: Iterator[Any]) -> None:
        self._iterator: Iterator[Any] | None = iterator
        self._seen: list[Any] = []

    def take(self, count: int) -> list[Any]:
        """The first ``count`` values (fewer if the iterator ends)."""
        while self._iterator is not None and len(self._seen) < count:
            try:
                self._seen.append(next(self._iterator))
            except StopIteration:
                self._iterator = None
        return self._seen[:count]

    def __repr__(self) -> str:
        more = ", ..." if self._iterator is not None else ""
        return f"ScaleValues({self._seen!r}{more})"


# Iterators already wrapped, so that one generator given to several tasks is read once.
_WRAPPED: weakref.WeakKeyDictionary[Iterator[Any], ScaleValues] = weakref.WeakKeyDictionary()


def _wrap(iterator: Iterator[Any]) -> ScaleValues:
    """The ScaleValues of an iterator, leaving the user's iterator unread where possible."""
    try:
        return _WRAPPED[iterator]
    except KeyError:
        pass
    except TypeError:  # not weak-referenceable (a list or range iterator): copy it instead
        try:
            return ScaleValues(copy.deepcopy(iterator))
        except Exception:  # an iterator that cannot be copied is read as it is
            return ScaleValues(iterator)
    wrapped = _WRAPPED[iterator] = ScaleValues(iterator)
    return wrapped


def _check_spec(key: str, spec: Any) -> None:
    if key not in SCALABLE_KEYS:
        raise InvalidResources(
            f"resource_scales[{key!r}]: only {', '.join(SCALABLE_KEYS)} can be scaled"
        )
    if callable(spec) or isinstance(spec, Iterator | ScaleValues):
        return
    factors = [spec] if isinstance(spec, int | float) else spec
    if isinstance(factors, str | bytes | Mapping) or not isinstance(factors, list | tuple):
        raise InvalidResources(
            f"resource_scales[{key!r}]={spec!r}: expected a factor (0.5 adds 50% after each "
            "resource error), a list of factors (one per error), an iterator of values "
            "(iter([2, 4]): the request after each error), or a callable (applied to the "
            "current request)"
        )
    for factor in factors:
        if (
            isinstance(factor, bool)
            or not isinstance(factor, int | float)
            or not math.isfinite(factor)
            or factor < 0
        ):
            raise InvalidResources(
                f"resource_scales[{key!r}]: factor {factor!r} must be a finite number >= 0"
            )


def check_scales(scales: Mapping[str, Any]) -> None:
    """Reject scale specs that could never work, before anything is sent (reads no iterator)."""
    if not isinstance(scales, Mapping):
        raise InvalidResources(
            f"resource_scales={scales!r}: expected a mapping such as {{'memory': 0.5}}")
    for key, spec in scales.items():
        _check_spec(key, spec)


def prepare_scales(scales: Mapping[str, Any]) -> dict[str, Any]:
    """Checked scales as the user gave them, each iterator wrapped in a ScaleValues."""
    check_scales(scales)
    return {key: _wrap(spec) if isinstance(spec, Iterator) else spec
            for key, spec in scales.items()}


def _kind(key: str) -> str:
    return {"memory": "size", "runtime": "duration", "cores": "number of cores"}[key]


def _canonical(key: str, value: object) -> int:
    """A user's value for a scalable key, as Jobmon reads it: memory in GiB (or a size with a
    unit), runtime in seconds (or a duration), cores a count."""
    if key == "memory":
        return parse_memory_mib(value)
    if key == "runtime":
        return parse_runtime_seconds(value)
    if isinstance(value, float) and math.isfinite(value) and value > 0:
        return math.ceil(value)
    return parse_cores(value)


def _user_units(key: str, canonical: float) -> float:
    """A canonical value in the units a Jobmon scale callable sees (memory in GiB)."""
    return canonical / 1024 if key == "memory" else canonical


def scales_to_wire(scales: Mapping[str, Any], max_attempts: int = 3) -> dict[str, Any]:
    """The JSON-safe part of resource_scales: factors as floats, an iterator as the values
    for the ``max_attempts - 1`` retries; callables stay in the binding process."""
    out: dict[str, Any] = {}
    for key, spec in scales.items():
        if isinstance(spec, ScaleValues):
            values = []
            for value in spec.take(max(0, max_attempts - 1)):
                try:
                    values.append(_canonical(key, value))
                except InvalidResources:
                    raise InvalidResources(
                        f"resource_scales[{key!r}]: the iterator gave {value!r}, which is not "
                        f"a {_kind(key)} (memory: GiB or '4G', runtime: seconds or '2h', "
                        "cores: a count)"
                    ) from None
            out[key] = {VALUES: values}
        elif isinstance(spec, Mapping):
            out[key] = {VALUES: [int(value) for value in spec[VALUES]]}
        elif callable(spec):
            continue
        else:
            out[key] = float(spec) if isinstance(spec, int | float) else [float(f) for f in spec]
    return out


def try_scales(scales: Mapping[str, Any], resources: Mapping[str, Any]) -> None:
    """Apply each callable once to the starting request, so a callable that cannot work
    (raises, or returns no number or size) is reported before anything is sent."""
    for key, spec in scales.items():
        if callable(spec) and not isinstance(spec, ScaleValues) and key in resources:
            _scaled_value(key, float(resources[key]), spec, 1)


@dataclass(frozen=True)
class QueueLimits:
    """What one queue (partition) accepts. None means no limit."""

    name: str
    max_cores: int | None = None
    max_memory_mib: int | None = None
    max_runtime_seconds: int | None = None

    def fits(self, resources: Mapping[str, Any]) -> bool:
        return all(
            limit is None or resources.get(key, 0) <= limit
            for key, limit in self._limits().items()
        )

    def cap(self, resources: Mapping[str, Any]) -> dict[str, Any]:
        capped = dict(resources)
        for key, limit in self._limits().items():
            if limit is not None and key in capped and capped[key] > limit:
                capped[key] = limit
        return capped

    def _limits(self) -> dict[str, int | None]:
        return {
            "cores": self.max_cores,
            "memory": self.max_memory_mib,
            "runtime": self.max_runtime_seconds,
        }


@dataclass(frozen=True)
class QueueSet:
    """A cluster's queues by name, and the one a request without a queue goes to."""

    limits: Mapping[str, QueueLimits]
    default: str | None = None


def _scaled_value(key: str, value: float, spec: Any, resource_errors: int) -> float:
    """The value after the ``resource_errors``-th resource error, in canonical units."""
    if isinstance(spec, ScaleValues):
        spec = {VALUES: [_canonical(key, v) for v in spec.take(resource_errors)]}
    if isinstance(spec, Mapping):  # absolute values; when they run out the request stays
        values = spec[VALUES]
        return float(values[resource_errors - 1]) if resource_errors <= len(values) else value
    if callable(spec):
        try:
            result = spec(_user_units(key, value))
        except Exception as error:
            raise InvalidResources(
                f"resource_scales[{key!r}]: the callable raised {type(error).__name__}: {error}"
            ) from error
        try:
            return _canonical(key, result)
        except InvalidResources:
            raise InvalidResources(
                f"resource_scales[{key!r}]: the callable returned {result!r}, which is not a "
                f"{_kind(key)} (memory: GiB or '4G', runtime: seconds or '2h', cores: a count)"
            ) from None
    if isinstance(spec, int | float):
        return value * (1 + float(spec))
    factors = list(spec)
    if not factors:
        return value
    factor = factors[min(resource_errors - 1, len(factors) - 1)]
    return value * (1 + float(factor))


def scale_resources(
    resources: Mapping[str, Any],
    scales: Mapping[str, Any],
    resource_errors: int,
    queues: Mapping[str, QueueLimits] | None = None,
    fallback_queues: Sequence[str] = (),
    default_queue: str | None = None,
) -> dict[str, Any]:
    """Resources for the next attempt after the ``resource_errors``-th resource error.

    A request without a queue is in ``default_queue``.
    Each scalable key grows by its factor (compounding over attempts), takes the next of its
    absolute values, or what its callable returns; a request never shrinks. If the result
    exceeds the current queue's limits, the first fallback queue that fits is chosen;
    if none fits (or there are none), the request is capped at the limits
    of the last fallback that holds the current request, else of the current queue.
    """
    scaled = dict(resources)
    for key, spec in scales.items():
        if key in scaled and isinstance(scaled[key], int | float):
            grown = _scaled_value(key, float(scaled[key]), spec, resource_errors)
            scaled[key] = max(int(scaled[key]), math.ceil(grown))
    if not queues:
        return scaled
    current = scaled.get("queue") or default_queue
    limits = queues.get(current) if current is not None else None
    if limits is None or limits.fits(scaled):
        return scaled
    for name in fallback_queues:
        candidate = queues.get(name)
        if candidate is not None and candidate.fits(scaled):
            return {**scaled, "queue": name}
    # The last fallback that holds the current request; never one that would shrink it.
    last = next(
        (
            queues[name]
            for name in reversed(fallback_queues)
            if name in queues and queues[name].fits(resources)
        ),
        limits,
    )
    return {**last.cap(scaled), "queue": last.name}
