"""drift_guard._record.NamedTuple makes the classes typing.NamedTuple makes, for less."""

from __future__ import annotations

import pickle
import typing
from typing import Optional, Tuple

import pytest

from drift_guard import _record


def _define(base: type) -> type:
    class Point(base):  # type: ignore[misc,valid-type]
        """A point."""

        x: int
        y: int = 0
        """Field docstrings are plain expressions: ignored."""
        tags: Tuple[str, ...] = ()
        label: Optional[str] = None

        @property
        def norm(self) -> int:
            return abs(self.x) + abs(self.y)

        def moved(self, dx: int) -> "Point":
            return self._replace(x=self.x + dx)

    return Point


def test_the_class_behaves_as_typing_makes_it() -> None:
    ours, theirs = _define(_record.NamedTuple), _define(typing.NamedTuple)
    assert ours._fields == theirs._fields == ("x", "y", "tags", "label")
    assert ours._field_defaults == theirs._field_defaults
    assert ours.__doc__ == theirs.__doc__ == "A point."
    assert ours.__name__ == "Point" and ours.__module__ == __name__
    a, b = ours(3, -4, ("t",)), theirs(3, -4, ("t",))
    assert tuple(a) == tuple(b) and a == b and hash(a) == hash(b)
    assert repr(a) == repr(b)
    assert a.norm == b.norm == 7
    assert a.moved(1) == b.moved(1) == (4, -4, ("t",), None)
    assert a._asdict() == b._asdict()
    assert ours._make([1, 2, (), "l"]) == theirs._make([1, 2, (), "l"])
    assert isinstance(a, tuple)


def test_records_pickle_where_they_are_defined() -> None:
    from drift_guard.models import Finding

    finding = Finding("missing", "six", None, "==1.0")
    assert pickle.loads(pickle.dumps(finding)) == finding


def test_a_field_without_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError):
        class Bad(_record.NamedTuple):
            a: int = 1
            b: int


@pytest.mark.parametrize("name", ["_replace", "_make", "__new__"])
def test_the_tuple_machinery_cannot_be_overwritten(name: str) -> None:
    with pytest.raises(AttributeError):
        type("Bad", (_record.NamedTuple,), {"__annotations__": {"a": "int"},
                                             name: lambda *a: None,
                                             "__module__": __name__})


def test_the_class_behaves_as_collections_namedtuple_makes_it() -> None:
    import collections
    import copy

    class Ours(_record.NamedTuple):
        a: int
        b: str = "x"

    theirs = collections.namedtuple("Ours", ["a", "b"], defaults=["x"])
    assert getattr(Ours, "__match_args__", None) == getattr(theirs, "__match_args__", None)
    assert Ours._field_defaults == theirs._field_defaults
    assert Ours.__slots__ == theirs.__slots__ == ()
    assert Ours(1) == theirs(1)
    assert Ours(b="y", a=2) == theirs(b="y", a=2)
    assert repr(Ours(1, "'")) == repr(theirs(1, "'"))
    assert Ours.a.__doc__ == theirs.a.__doc__
    for call in (lambda c: c(), lambda c: c(1, 2, 3), lambda c: c(1, c=3),
                 lambda c: c._make([1]), lambda c: c(1)._replace(z=1)):
        with pytest.raises((TypeError, ValueError)) as ours_error:
            call(Ours)
        with pytest.raises((TypeError, ValueError)) as their_error:
            call(theirs)
        assert type(ours_error.value) is type(their_error.value)
    record = Ours(3, "z")
    assert copy.copy(record) == record
    assert copy.deepcopy(record) == record
    assert record._asdict() == {"a": 3, "b": "z"}
    assert record.__getnewargs__() == (3, "z")
    with pytest.raises(AttributeError):
        record.c = 1  # type: ignore[attr-defined]
