"""Identity hashes: stable, order-free, and fitting a PostgreSQL bigint."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobmon.hashing import args_hash, task_set_hash, text_hash

BIGINT_MAX = 2**63 - 1

arg_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
# An explicit alphabet (quotes, spaces, non-ASCII) keeps generation fast on a fresh checkout.
VALUE_ALPHABET = "az09 _-./'\";$éü中\t"
arg_values = st.one_of(st.integers(), st.text(alphabet=VALUE_ALPHABET, max_size=20))
arg_maps = st.dictionaries(arg_names, arg_values, max_size=6)


def test_known_value_is_stable_across_processes() -> None:
    # A change here changes every node and task identity: old workflows would no longer resume.
    assert args_hash({"location_id": 1, "year": 2020}) == args_hash(
        {"year": "2020", "location_id": "1"})
    assert args_hash({}) == args_hash({})
    assert text_hash("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_dict_order_does_not_matter() -> None:
    assert args_hash({"a": 1, "b": 2}) == args_hash({"b": 2, "a": 1})


def test_number_and_its_text_are_one_node() -> None:
    assert args_hash({"year": 2020}) == args_hash({"year": "2020"})


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ({"year": 2020}, {"year": 2021}),
        ({"year": 2020}, {"yr": 2020}),
        ({"a": 1}, {"a": 1, "b": 1}),
        ({"a": 1, "b": 2}, {"a": 2, "b": 1}),
        ({"a": "12", "b": "3"}, {"a": "1", "b": "23"}),
        ({}, {"a": ""}),
        # values holding what a separator-joined encoding would use between arguments
        ({"a": "x\x1fb\x1ey", "b": "z"}, {"a": "x", "b": "y\x1fb\x1ez"}),
        ({"a": "1:b1:2", "b": "3"}, {"a": "1", "b": "2" + "1:b1:3"}),
    ],
)
def test_different_args_hash_differently(left: dict[str, object],
                                         right: dict[str, object]) -> None:
    assert args_hash(left) != args_hash(right)


@given(arg_maps)
def test_fits_a_nonnegative_signed_bigint(args: dict[str, object]) -> None:
    value = args_hash(args)
    assert isinstance(value, int)
    assert 0 <= value <= BIGINT_MAX


@given(arg_maps, st.randoms())
def test_insertion_order_never_matters(args: dict[str, object], rng: random.Random) -> None:
    items = list(args.items())
    rng.shuffle(items)
    assert args_hash(dict(items)) == args_hash(args)


@given(st.dictionaries(arg_names, st.integers(), min_size=1, max_size=5))
def test_integers_and_their_strings_agree(args: dict[str, int]) -> None:
    assert args_hash(args) == args_hash({key: str(value) for key, value in args.items()})


@given(arg_maps, arg_names, arg_values, arg_values)
def test_changing_one_value_changes_the_hash(
    args: dict[str, object], key: str, first: object, second: object
) -> None:
    if str(first) == str(second):
        return
    assert args_hash({**args, key: first}) != args_hash({**args, key: second})


def test_task_set_hash_ignores_order() -> None:
    keys = [("model", 1, 2), ("model", 3, 4), ("agg", 5, 6)]
    assert task_set_hash(keys) == task_set_hash(reversed(keys))
    assert task_set_hash(iter(keys)) == task_set_hash(sorted(keys))


def test_task_set_hash_sees_every_member() -> None:
    keys = [("model", 1, 2), ("model", 3, 4)]
    base = task_set_hash(keys)
    assert task_set_hash(keys[:1]) != base
    assert task_set_hash([*keys, ("model", 5, 6)]) != base
    assert task_set_hash([("model", 1, 2), ("model", 3, 5)]) != base
    assert task_set_hash([("other", 1, 2), ("model", 3, 4)]) != base
    assert task_set_hash([]) != base
    assert len(base) == 64 and int(base, 16) >= 0


@given(st.lists(st.tuples(arg_names, st.integers(0, BIGINT_MAX), st.integers(0, BIGINT_MAX)),
                max_size=10), st.randoms())
def test_task_set_hash_is_order_free_for_any_set(
    keys: list[tuple[str, int, int]], rng: random.Random
) -> None:
    shuffled = list(keys)
    rng.shuffle(shuffled)
    assert task_set_hash(shuffled) == task_set_hash(keys)


def _task_set_hash_by_definition(keys: list[tuple[str, int, int]]) -> str:
    hasher = hashlib.sha256()
    for name, node_hash, task_hash in sorted(keys):
        hasher.update(f"{name}\x1e{node_hash}\x1e{task_hash}\x1f".encode())
    return hasher.hexdigest()


@given(st.lists(st.tuples(st.sampled_from(["a", "ab", "", "é"]),
                          st.one_of(st.integers(0, BIGINT_MAX), st.integers()),
                          st.integers(0, BIGINT_MAX)), max_size=30))
def test_task_set_hash_is_its_definition(keys: list[tuple[str, int, int]]) -> None:
    # A bound workflow's task hash is stored: the fast path must give the same digest as
    # sorting the keys and hashing them one by one, whatever the ints (a resume finds the
    # workflow by it), also for ints args_hash never makes
    assert task_set_hash(keys) == _task_set_hash_by_definition(keys)
    assert task_set_hash(iter(keys)) == _task_set_hash_by_definition(keys)


def test_text_hash_differs_for_different_text() -> None:
    assert text_hash("burden-2026") != text_hash("burden-2027")
    assert text_hash("") != text_hash(" ")
