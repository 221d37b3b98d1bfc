"""Compute resources: parsing, normalizing, precedence, and scaling after resource errors."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jobmon.errors import InvalidResources, InvalidWorkflow
from jobmon.resources import (
    DEFAULT_RESOURCE_SCALES,
    QueueLimits,
    check_scales,
    format_memory,
    format_runtime,
    merge,
    normalize,
    parse_cores,
    parse_memory_mib,
    parse_runtime_seconds,
    prepare_scales,
    scale_resources,
    scales_to_wire,
    try_scales,
)

# ------------------------------------------------------------------ memory


@pytest.mark.parametrize(
    ("value", "mib"),
    [("512M", 512), ("4G", 4096), ("4g", 4096), ("1.5T", 1536 * 1024), ("4096MB", 4096),
     ("2GiB", 2048), ("2gib", 2048), (" 3 G ", 3072), ("1024K", 1), ("1.5G", 1536),
     ("1K", 1),  # rounded up: a request never shrinks to zero
     (4, 4096), (0.5, 512), ("2", 2048)],  # bare numbers mean GiB, as in Jobmon
)
def test_parse_memory(value: object, mib: int) -> None:
    assert parse_memory_mib(value) == mib


@pytest.mark.parametrize(
    "value",
    ["4 gigs", "", "G", "-1G", "4X", "4GBB", "1e3M", "four", True, False, None, [4], 0, -2,
     "0M", "0", float("nan"), float("inf")],
)
def test_bad_memory_is_rejected_naming_the_value(value: object) -> None:
    with pytest.raises(InvalidResources) as caught:
        parse_memory_mib(value)
    assert f"memory={value!r}" in str(caught.value)


@pytest.mark.parametrize("value", ["100B", "100iB", "100 b"])
def test_bytes_suffix_without_a_unit_is_not_read_as_gib(value: str) -> None:
    # "100B" means 100 bytes to anyone reading it; it must not become 100 GiB.
    try:
        mib = parse_memory_mib(value)
    except InvalidResources:
        return
    assert mib <= 1


def test_invalid_resources_is_an_invalid_workflow() -> None:
    assert issubclass(InvalidResources, InvalidWorkflow)
    assert issubclass(InvalidResources, ValueError)


# ------------------------------------------------------------------ runtime


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(3600, 3600), (90.2, 91), ("90", 90), ("90s", 90), ("30m", 1800), ("2h", 7200),
     ("1h30m", 5400), ("1h 30m", 5400), ("1.5h", 5400), ("1d", 86400), ("2H", 7200),
     ("01:30:00", 5400), ("1-00:00:00", 86400), ("2-03:04:05", 2 * 86400 + 3 * 3600 + 245),
     ("10:00", 600), ("0:45", 45),  # MM:SS, as in Slurm's --time
     # unit words, as Jobmon reads them
     ("10min", 600), ("30 minutes", 1800), ("2hrs", 7200), ("2 hours", 7200), ("45sec", 45),
     ("30 seconds", 30), ("1 day", 86400)],
)
def test_parse_runtime(value: object, seconds: int) -> None:
    assert parse_runtime_seconds(value) == seconds


def test_days_with_hours_and_minutes_follow_slurm() -> None:
    # Slurm's --time reads "D-HH:MM" as days-hours:minutes, not days + MM:SS.
    assert parse_runtime_seconds("1-02:30") == 86400 + 2 * 3600 + 30 * 60


@pytest.mark.parametrize(
    "value",
    ["", "soon", "1x", "h", "-5", "0", 0, -1, "0s", "0:00", "1:2:3:4", "30 minutesx", "1ms", True,
     None, [30], float("nan"), float("inf"), "²", "1..5"],
)
def test_bad_runtime_is_rejected_naming_the_value(value: object) -> None:
    with pytest.raises(InvalidResources) as caught:
        parse_runtime_seconds(value)
    assert f"runtime={value!r}" in str(caught.value)


# ------------------------------------------------------------------ cores


@pytest.mark.parametrize(("value", "cores"), [(1, 1), (16, 16), ("4", 4), (" 8 ", 8)])
def test_parse_cores(value: object, cores: int) -> None:
    assert parse_cores(value) == cores


@pytest.mark.parametrize("value", [0, -1, "0", "two", 1.5, True, None, "1.5"])
def test_bad_cores_are_rejected(value: object) -> None:
    with pytest.raises(InvalidResources, match="cores="):
        parse_cores(value)


# ------------------------------------------------------------------ normalize and merge


def test_normalize_gives_canonical_values_and_keeps_unknown_keys() -> None:
    got = normalize(
        {"cores": "2", "memory": "4G", "runtime": "1h30m", "queue": " all.q ",
         "project": "proj_a", "constraint": "skylake", "gpus": 2, "exclusive": True,
         "ignored": None}
    )
    assert got == {
        "cores": 2, "memory": 4096, "runtime": 5400, "queue": "all.q", "project": "proj_a",
        "constraint": "skylake", "gpus": 2, "exclusive": True,
    }


@pytest.mark.parametrize(
    "resources",
    [{"memory": "4 gigs"}, {"runtime": "forever"}, {"cores": 0}, {"queue": ""}, {"queue": 5},
     {"project": "   "}, {"constraint": ["a", "b"]}, {"constraint": {"a": 1}}, {"": 1},
     {3: 1}],
)
def test_normalize_rejects_bad_values(resources: dict[Any, Any]) -> None:
    with pytest.raises(InvalidResources):
        normalize(resources)


def test_normalize_does_not_touch_its_input() -> None:
    given_resources = {"memory": "4G"}
    normalize(given_resources)
    assert given_resources == {"memory": "4G"}


def test_merge_later_layers_win_and_missing_layers_are_skipped() -> None:
    tool = {"cores": 1, "memory": 1024, "queue": "all.q"}
    workflow = {"memory": 2048}
    template = None
    task = {"memory": 4096, "runtime": 60}
    assert merge(tool, workflow, template, task) == {
        "cores": 1, "memory": 4096, "queue": "all.q", "runtime": 60}
    assert merge(task, tool)["memory"] == 1024
    assert merge() == {}
    assert tool == {"cores": 1, "memory": 1024, "queue": "all.q"}  # inputs untouched


# ------------------------------------------------------------------ formatting


@pytest.mark.parametrize(("mib", "text"), [(4096, "4G"), (1536, "1536M"), (512, "512M")])
def test_format_memory(mib: int, text: str) -> None:
    assert format_memory(mib) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(59, "00:00:59"), (5400, "01:30:00"), (86400, "1-00:00:00"),
                          (90061, "1-01:01:01")])
def test_format_runtime(seconds: int, text: str) -> None:
    assert format_runtime(seconds) == text


@given(st.integers(min_value=1, max_value=10**9))
def test_memory_round_trips(mib: int) -> None:
    assert parse_memory_mib(format_memory(mib)) == mib


@given(st.integers(min_value=1, max_value=400 * 86400))
def test_runtime_round_trips(seconds: int) -> None:
    assert parse_runtime_seconds(format_runtime(seconds)) == seconds


# ------------------------------------------------------------------ scale specs


@pytest.mark.parametrize(
    "scales",
    [{"memory": 0.5}, {"runtime": 1}, {"cores": 0}, {"memory": [0.5, 1.0, 2]},
     {"memory": (0.1,)}, {"memory": lambda value: value * 2}, {"runtime": iter([1, 2])}, {}],
)
def test_check_scales_accepts_factors_lists_and_callables(scales: dict[str, Any]) -> None:
    check_scales(scales)


@pytest.mark.parametrize(
    "scales",
    [{"memory": "0.5"}, {"memory": -0.5}, {"memory": [0.5, -1]}, {"memory": ["0.5"]},
     {"memory": {"values": [1]}}, {"memory": {0.5}}, {"memory": b"1"},
     {"memory": True}, {"memory": None}, {"disk": 0.5}, {"queue": 0.5},
     {"memory": float("nan")}, {"runtime": float("inf")}, {"memory": [0.5, float("inf")]}],
)
def test_check_scales_rejects_what_could_never_work(scales: dict[str, Any]) -> None:
    with pytest.raises(InvalidResources, match="resource_scales"):
        check_scales(scales)


def test_scales_to_wire_drops_callables_and_makes_floats() -> None:
    wire = scales_to_wire({"memory": 1, "runtime": [0.5, 1], "cores": lambda v: v + 1})
    assert wire == {"memory": 1.0, "runtime": [0.5, 1.0]}
    assert isinstance(wire["memory"], float)


# ------------------------------------------------------------------ scaling


def test_default_scales_are_half_for_memory_and_runtime() -> None:
    assert DEFAULT_RESOURCE_SCALES == {"memory": 0.5, "runtime": 0.5}


def test_default_factor_compounds_over_successive_resource_errors() -> None:
    first = scale_resources({"memory": 1000, "runtime": 600, "cores": 2},
                            DEFAULT_RESOURCE_SCALES, 1)
    assert first == {"memory": 1500, "runtime": 900, "cores": 2}
    second = scale_resources(first, DEFAULT_RESOURCE_SCALES, 2)
    assert second == {"memory": 2250, "runtime": 1350, "cores": 2}


def test_scaling_rounds_up_to_whole_units() -> None:
    assert scale_resources({"memory": 1001}, {"memory": 0.5}, 1) == {"memory": 1502}


def test_a_list_uses_the_ith_factor_then_the_last() -> None:
    scales = {"memory": [0.5, 1.0, 2.0]}
    resources: dict[str, Any] = {"memory": 1000}
    seen = []
    for error in range(1, 6):
        resources = scale_resources(resources, scales, error)
        seen.append(resources["memory"])
    assert seen == [1500, 3000, 9000, 27000, 81000]


def test_an_empty_list_leaves_the_value_alone() -> None:
    assert scale_resources({"memory": 1000}, {"memory": []}, 1) == {"memory": 1000}


def test_a_callable_is_applied_to_the_current_value_in_jobmon_units() -> None:
    # as in Jobmon, a memory callable sees and returns GiB (or a size), runtime seconds
    got = scale_resources({"memory": 2048, "runtime": 60},
                          {"memory": lambda gib: gib + 1, "runtime": lambda v: v * 10}, 1)
    assert got == {"memory": 3072, "runtime": 600}
    assert scale_resources({"memory": 1024}, {"memory": lambda gib: "1536M"}, 1) == {
        "memory": 1536}
    assert scale_resources({"runtime": 60}, {"runtime": lambda s: "2m"}, 1) == {"runtime": 120}


def test_a_callable_cannot_shrink_the_request() -> None:
    assert scale_resources({"memory": 4096}, {"memory": lambda gib: 1}, 1) == {"memory": 4096}


@pytest.mark.parametrize(("result", "shown"), [("lots", "'lots'"), (None, "None"),
                                                ([2], "[2]"), (-1, "-1")])
def test_a_callable_returning_garbage_is_a_clear_error(result: object, shown: str) -> None:
    with pytest.raises(InvalidResources, match=r"resource_scales\['memory'\]") as caught:
        scale_resources({"memory": 1024}, {"memory": lambda gib: result}, 1)
    assert f"returned {shown}" in str(caught.value)


def test_a_callable_that_raises_is_a_clear_error() -> None:
    with pytest.raises(InvalidResources, match="callable raised ZeroDivisionError"):
        scale_resources({"runtime": 60}, {"runtime": lambda s: s / 0}, 1)


def test_try_scales_calls_each_callable_once_on_the_start() -> None:
    seen: list[float] = []
    try_scales({"memory": lambda gib: seen.append(gib) or gib * 2, "runtime": 0.5},
               {"memory": 2048, "runtime": 60})
    assert seen == [2.0]
    with pytest.raises(InvalidResources, match="returned 'x'"):
        try_scales({"runtime": lambda s: "x"}, {"runtime": 60})
    try_scales({"cores": lambda n: "x"}, {"memory": 1})  # no cores asked: nothing to try


# ------------------------------------------------------------------ absolute values (iterators)


def test_an_iterator_gives_the_request_after_each_resource_error() -> None:
    # advanced_usage.rst 'Custom Resource Scales': iter([100, 120]) are runtimes in seconds
    scales = prepare_scales({"runtime": iter([100, 120]), "memory": iter([2, "3G"])})
    wire = scales_to_wire(scales, max_attempts=3)
    assert wire == {"runtime": {"values": [100, 120]}, "memory": {"values": [2048, 3072]}}
    resources: dict[str, Any] = {"runtime": 90, "memory": 1024}
    seen = []
    for error in range(1, 4):
        resources = scale_resources(resources, wire, error)
        seen.append(dict(resources))
    # when the values run out the request stays, as Jobmon re-uses the last one
    assert seen == [{"runtime": 100, "memory": 2048}, {"runtime": 120, "memory": 3072},
                    {"runtime": 120, "memory": 3072}]


def test_an_iterator_is_read_only_as_far_as_the_retries_go() -> None:
    endless = itertools.count(start=100, step=10)
    wire = scales_to_wire(prepare_scales({"runtime": endless}), max_attempts=4)
    assert wire == {"runtime": {"values": [100, 110, 120]}}


def test_checking_scales_does_not_read_the_users_iterator() -> None:
    values = iter([100, 120])
    scales = prepare_scales({"runtime": values})
    check_scales(scales)
    assert scales_to_wire(scales)["runtime"] == {"values": [100, 120]}
    # every task given the same iterator sees all of it, as Jobmon copies it per task
    again = prepare_scales({"runtime": values})
    assert scales_to_wire(again)["runtime"] == {"values": [100, 120]}
    assert list(values) == [100, 120]  # the user's own iterator is left unread


def test_one_generator_given_to_several_tasks_is_read_once() -> None:
    def values() -> Iterator[int]:
        yield from (100, 120)

    generator = values()
    first, second = prepare_scales({"runtime": generator}), prepare_scales({"runtime": generator})
    assert scales_to_wire(first) == scales_to_wire(second) == {"runtime": {"values": [100, 120]}}


@pytest.mark.parametrize("value", ["lots", None, -5, [1]])
def test_garbage_from_an_iterator_is_refused_before_anything_is_sent(value: object) -> None:
    scales = prepare_scales({"memory": iter([2, value])})
    with pytest.raises(InvalidResources, match=r"resource_scales\['memory'\]: the iterator gave"):
        scales_to_wire(scales, max_attempts=3)
    assert scales_to_wire(scales, max_attempts=2) == {"memory": {"values": [2048]}}


def test_keys_without_a_scale_or_without_a_value_are_untouched() -> None:
    got = scale_resources({"memory": 1000, "queue": "all.q", "gpus": 1},
                          {"memory": 0.5, "runtime": 0.5}, 1)
    assert got == {"memory": 1500, "queue": "all.q", "gpus": 1}


def test_scaling_does_not_modify_its_input() -> None:
    resources = {"memory": 1000}
    scale_resources(resources, {"memory": 0.5}, 1)
    assert resources == {"memory": 1000}


# ------------------------------------------------------------------ queues

QUEUES = {
    "short": QueueLimits("short", max_cores=8, max_memory_mib=4096, max_runtime_seconds=3600),
    "long": QueueLimits("long", max_cores=8, max_memory_mib=16384, max_runtime_seconds=86400),
    "huge": QueueLimits("huge", max_memory_mib=1024 * 1024),
}


def test_queue_limits_fits_and_cap() -> None:
    short = QUEUES["short"]
    assert short.fits({"memory": 4096, "runtime": 3600, "cores": 8})
    assert not short.fits({"memory": 4097})
    assert not short.fits({"runtime": 3601})
    assert not short.fits({"cores": 9})
    assert short.fits({"gpus": 100})  # keys it does not limit
    assert short.cap({"memory": 9000, "runtime": 60, "gpus": 2}) == {
        "memory": 4096, "runtime": 60, "gpus": 2}
    assert QueueLimits("open").fits({"memory": 10**9})


def test_stays_in_its_queue_while_it_fits() -> None:
    got = scale_resources({"memory": 2000, "queue": "short"}, {"memory": 0.5}, 1, QUEUES,
                          ["long"])
    assert got == {"memory": 3000, "queue": "short"}


def test_moves_to_the_first_fallback_queue_that_fits() -> None:
    got = scale_resources({"memory": 4000, "runtime": 3000, "queue": "short"},
                          DEFAULT_RESOURCE_SCALES, 1, QUEUES, ["long", "huge"])
    assert got == {"memory": 6000, "runtime": 4500, "queue": "long"}


def test_skips_fallbacks_that_do_not_fit_or_are_unknown() -> None:
    got = scale_resources({"memory": 12000, "queue": "short"}, {"memory": 0.5}, 1, QUEUES,
                          ["nowhere", "long", "huge"])
    assert got == {"memory": 18000, "queue": "huge"}


def test_capped_at_the_queue_limit_without_fallbacks() -> None:
    got = scale_resources({"memory": 3000, "queue": "short"}, {"memory": 0.5}, 1, QUEUES)
    assert got == {"memory": 4096, "queue": "short"}


def test_capped_at_the_last_fallback_when_none_fits() -> None:
    got = scale_resources({"memory": 4000, "runtime": 80000, "queue": "short"},
                          {"runtime": 0.5}, 1, QUEUES, ["long"])
    assert got == {"memory": 4000, "runtime": 86400, "queue": "long"}


def test_a_smaller_fallback_never_shrinks_the_request() -> None:
    queues = {"medium": QueueLimits("medium", max_memory_mib=8000),
              "tiny": QueueLimits("tiny", max_memory_mib=4000)}
    got = scale_resources({"memory": 6000, "queue": "medium"}, {"memory": 0.5}, 1, queues,
                          ["tiny"])
    assert got["memory"] >= 6000
    assert queues[got["queue"]].fits(got)


def test_unknown_current_queue_is_not_capped() -> None:
    got = scale_resources({"memory": 100000, "queue": "other"}, {"memory": 0.5}, 1, QUEUES)
    assert got == {"memory": 150000, "queue": "other"}


# ------------------------------------------------------------------ properties

limits = st.one_of(st.none(), st.integers(min_value=1, max_value=10**6))


@st.composite
def queue_setups(draw: st.DrawFn) -> tuple[dict[str, QueueLimits], list[str]]:
    names = draw(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=6, unique=True))
    queues = {
        name: QueueLimits(name, max_memory_mib=draw(limits), max_runtime_seconds=draw(limits))
        for name in names
    }
    fallbacks = draw(st.lists(st.sampled_from([*names, "zz"]), max_size=4))
    return queues, fallbacks


factor_specs = st.one_of(
    st.floats(min_value=0, max_value=3),
    st.lists(st.floats(min_value=0, max_value=3), max_size=4),
)


@settings(max_examples=300)
@given(
    setup=queue_setups(),
    memory=st.integers(min_value=1, max_value=10**6),
    runtime=st.integers(min_value=1, max_value=10**6),
    memory_spec=factor_specs,
    runtime_spec=factor_specs,
    errors=st.integers(min_value=1, max_value=6),
    data=st.data(),
)
def test_scaled_requests_never_shrink_and_respect_the_chosen_queue(
    setup: tuple[dict[str, QueueLimits], list[str]],
    memory: int,
    runtime: int,
    memory_spec: Any,
    runtime_spec: Any,
    errors: int,
    data: st.DataObject,
) -> None:
    queues, fallbacks = setup
    current = data.draw(st.sampled_from(sorted(queues)))
    resources = {"memory": memory, "runtime": runtime, "queue": current}
    assume(queues[current].fits(resources))  # the distributor rejects anything else
    scales = {"memory": memory_spec, "runtime": runtime_spec}
    check_scales(scales)
    for error in range(1, errors + 1):
        scaled = scale_resources(resources, scales, error, queues, fallbacks)
        assert scaled["memory"] >= resources["memory"]
        assert scaled["runtime"] >= resources["runtime"]
        chosen = queues[scaled["queue"]]
        assert chosen.fits(scaled), (resources, scaled)
        assert all(isinstance(scaled[key], int) for key in ("memory", "runtime"))
        resources = scaled


@given(st.integers(min_value=1, max_value=10**7), st.floats(min_value=0, max_value=10))
def test_a_factor_grows_by_exactly_that_fraction(memory: int, factor: float) -> None:
    scaled = scale_resources({"memory": memory}, {"memory": factor}, 1)["memory"]
    assert scaled == max(memory, math.ceil(memory * (1 + factor)))
