"""The error tree and how its errors word themselves."""

from __future__ import annotations

import math
import numbers

import pytest

from grapevine._validation import check_choice, check_number
from grapevine.errors import (
    BadInput,
    GrapevineError,
    InvalidParameter,
    MissingDependency,
    NotConverged,
    SchemaOutOfDate,
    StoreError,
    StoreNotFound,
    UnknownPerson,
)


# ---------------------------------------------------------------------------- BadInput
@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"file": "a.csv", "line": 12, "field": "time"}, "a.csv, line 12, field 'time': bad"),
        ({"file": "a.csv", "line": 12}, "a.csv, line 12: bad"),
        ({"file": "a.csv", "field": "time"}, "a.csv, field 'time': bad"),
        ({"file": "a.csv"}, "a.csv: bad"),
        ({"line": 3}, "line 3: bad"),
        ({"field": "kind"}, "field 'kind': bad"),
        ({}, "bad"),
    ],
)
def test_bad_input_message_names_file_line_field(kwargs: dict, expected: str) -> None:
    err = BadInput("bad", **kwargs)
    assert str(err) == expected
    assert err.message == "bad"
    assert err.file == kwargs.get("file")
    assert err.line == kwargs.get("line")
    assert err.field == kwargs.get("field")


def test_bad_input_keeps_context_when_raised() -> None:
    with pytest.raises(BadInput, match=r"^data/x\.txt, line 7, field 'user_a': expected") as info:
        raise BadInput("expected an integer, got 'x'", file="data/x.txt", line=7, field="user_a")
    assert (info.value.file, info.value.line, info.value.field) == ("data/x.txt", 7, "user_a")


# ---------------------------------------------------------------------------- InvalidParameter
def test_invalid_parameter_message_is_the_scikit_learn_wording() -> None:
    with pytest.raises(InvalidParameter) as info:
        check_number(0, "k", "IMM", kind=numbers.Integral, low=1)
    assert str(info.value) == (
        "The 'k' parameter of IMM must be an int in the range [1, inf). Got 0 instead."
    )
    assert (info.value.name, info.value.owner, info.value.got) == ("k", "IMM", 0)
    assert info.value.expected == "an int in the range [1, inf)"


def test_invalid_parameter_direct_construction() -> None:
    err = InvalidParameter("k", "IMM", "an int in the range [1, inf)", 0)
    assert (
        str(err) == "The 'k' parameter of IMM must be an int in the range [1, inf). Got 0 instead."
    )
    assert isinstance(err, ValueError)


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (1.5, {"low": 0.0, "high": 1.0}, "a float in the range [0, 1]"),
        (-0.1, {"low": 0.0, "high": 1.0, "low_closed": False}, "a float in the range (0, 1]"),
        (1.0, {"low": 0.0, "high": 1.0, "high_closed": False}, "a float in the range [0, 1)"),
        (float("nan"), {"low": 0.0, "high": 1.0}, "a float in the range [0, 1]"),
        ("0.5", {"low": 0.0, "high": 1.0}, "a float in the range [0, 1]"),
        (True, {"kind": numbers.Integral, "low": 1}, "an int in the range [1, inf)"),
        (2.0, {"kind": numbers.Integral, "low": 1}, "an int in the range [1, inf)"),
        (0.25, {"low": 0.5, "high": 2.5}, "a float in the range [0.5, 2.5]"),
    ],
)
def test_check_number_rejects(value: object, kwargs: dict, expected: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        check_number(value, "p", "Thing", **kwargs)
    assert info.value.expected == expected
    assert (
        str(info.value) == f"The 'p' parameter of Thing must be {expected}. Got {value!r} instead."
    )


@pytest.mark.parametrize(
    ("value", "kwargs"),
    [
        (0.0, {"low": 0.0, "high": 1.0}),
        (1.0, {"low": 0.0, "high": 1.0}),
        (1, {"kind": numbers.Integral, "low": 1}),
        (10**20, {"kind": numbers.Integral, "low": 1}),
        (math.inf, {}),
    ],
)
def test_check_number_accepts(value: object, kwargs: dict) -> None:
    check_number(value, "p", "Thing", **kwargs)


def test_check_choice_message() -> None:
    with pytest.raises(InvalidParameter) as info:
        check_choice("mean", "multi_edges", "Graph.from_arrays", ("sum", "first", "max"))
    assert str(info.value) == (
        "The 'multi_edges' parameter of Graph.from_arrays must be one of 'sum', 'first', "
        "'max'. Got 'mean' instead."
    )
    check_choice("sum", "multi_edges", "Graph.from_arrays", ("sum", "first", "max"))


# ---------------------------------------------------------------------------- the tree
@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (BadInput, (GrapevineError,)),
        (InvalidParameter, (GrapevineError, ValueError)),
        (UnknownPerson, (GrapevineError, KeyError)),
        (NotConverged, (GrapevineError,)),
        (StoreError, (GrapevineError,)),
        (SchemaOutOfDate, (StoreError, GrapevineError)),
        (StoreNotFound, (StoreError, GrapevineError)),
        (MissingDependency, (GrapevineError, ImportError)),
    ],
)
def test_error_tree(cls: type, bases: tuple[type, ...]) -> None:
    for base in bases:
        assert issubclass(cls, base)
    assert issubclass(cls, Exception)
    assert issubclass(GrapevineError, Exception)


def test_every_exported_error_derives_from_grapevine_error() -> None:
    import grapevine.errors as errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), GrapevineError), name


def test_unknown_person_message_is_not_quoted_like_a_key_error() -> None:
    err = UnknownPerson("alice", where="the store")
    assert str(err) == "Unknown person 'alice' in the store."
    assert err.person == "alice"
    with pytest.raises(KeyError):
        raise err


def test_not_converged_message() -> None:
    err = NotConverged("PageRank", 100, 0.00123456)
    assert str(err) == "PageRank did not converge in 100 iterations (residual 0.00123)."
    assert (err.method, err.iterations, err.residual) == ("PageRank", 100, 0.00123456)


def test_store_not_found_names_the_place_and_how_to_create_one() -> None:
    err = StoreNotFound("shop.db", "the file does not exist")
    assert err.where == "shop.db"
    assert str(err) == (
        "no store at shop.db (the file does not exist): check the path, or create one there "
        "with `grapevine migrate --db shop.db` (an import creates it too)"
    )


def test_missing_dependency_names_the_extra() -> None:
    err = MissingDependency("torch", "gnn")
    assert str(err) == "torch is needed for this; install it with: pip install 'grapevine[gnn]'"
    assert (err.package, err.extra) == ("torch", "gnn")
    assert isinstance(err, ImportError)


def test_schema_out_of_date_is_caught_as_store_error() -> None:
    with pytest.raises(StoreError, match="schema"):
        raise SchemaOutOfDate("the store is at schema none")
