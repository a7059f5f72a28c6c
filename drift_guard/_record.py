"""Records that cost nothing to define.

`class Finding(NamedTuple)` reads well and type-checks, but `typing` costs milliseconds to
import and `typing.NamedTuple` checks every field's annotation when the class is made -- paid
on every commit by the hook, for a few dozen records. Modules on the check's path write

    TYPE_CHECKING = False
    if TYPE_CHECKING:
        from typing import NamedTuple
    else:
        from drift_guard._record import NamedTuple

and get, at run time, the class `collections.namedtuple` makes -- the same fields in annotation
order, defaults, constructor, accessors, methods (`_make`, `_replace`, `_asdict`, repr, pickling)
-- with the methods, properties and docstring of the class body. Type checkers see
`typing.NamedTuple`.

It is built here rather than by `collections.namedtuple`, which costs a check ~0.1 ms a
record (twenty on a check's path) plus the import of `collections`: the methods that do not
depend on the fields are written once and shared; only the constructor is compiled per class,
as namedtuple compiles it, so that building a record costs what it costs there.
"""

from __future__ import annotations

import sys

try:
    from _collections import _tuplegetter  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - not CPython
    from operator import itemgetter as _itemgetter

    def _tuplegetter(index: int, doc: str) -> property:  # type: ignore[misc,unused-ignore]
        return property(_itemgetter(index), doc=doc)

_tuple_new = tuple.__new__
# What _replace raises for a name that is no field (namedtuple changed it in Python 3.13).
_UNKNOWN_FIELD = TypeError if sys.version_info >= (3, 13) else ValueError

# What a class body may not redefine, as for typing.NamedTuple.
_PROHIBITED = frozenset({"__new__", "__init__", "__slots__", "__getnewargs__", "_fields",
                         "_field_defaults", "_make", "_replace", "_asdict", "_source"})
# What the class statement itself puts in the namespace.
_SPECIAL = frozenset({"__module__", "__qualname__", "__annotations__", "__doc__",
                      "__orig_bases__", "__static_attributes__", "__firstlineno__",
                      "__classcell__", "__annotate__", "__annotate_func__",
                      "__annotations_cache__"})


class _Maker(type):
    def __new__(mcs, name, bases, namespace):  # type: ignore[no-untyped-def]
        if namespace.get("_is_record_base"):
            return super().__new__(mcs, name, bases, namespace)
        fields = list(_annotations(namespace))
        defaults = []
        for field in fields:
            if field in namespace:
                defaults.append(namespace[field])
            elif defaults:
                raise TypeError(f"{name}: field {field} without a default follows a field "
                                "with one")
        cls = _record_class(name, fields, defaults, namespace.get("__module__"))
        for key, value in namespace.items():
            if key in _PROHIBITED:
                raise AttributeError(f"{name}: cannot overwrite NamedTuple attribute {key}")
            if key not in _SPECIAL and key not in fields:
                setattr(cls, key, value)
        if namespace.get("__doc__"):
            cls.__doc__ = namespace["__doc__"]
        cls.__qualname__ = namespace.get("__qualname__", name)
        return cls


def _record_class(name: str, fields: list, defaults: list, module: object) -> type:  # type: ignore[type-arg]
    for field in fields:
        if not field.isidentifier() or field.startswith("_"):
            raise ValueError(f"{name}: invalid field name {field!r}")
    if len(set(fields)) != len(fields):
        raise ValueError(f"{name}: a field name is repeated")
    args = ", ".join(fields)
    new = eval(f"lambda _cls, {args}: _tuple_new(_cls, ({args}{',' if fields else ''}))",
               {"_tuple_new": _tuple_new, "__builtins__": {}}, {})
    new.__name__ = "__new__"
    new.__qualname__ = f"{name}.__new__"
    new.__doc__ = f"Create new instance of {name}({args})"
    if defaults:
        new.__defaults__ = tuple(defaults)
    namespace = {
        "__doc__": f"{name}({args})",
        "__slots__": (),
        "_fields": tuple(fields),
        "_field_defaults": dict(zip(fields[len(fields) - len(defaults):], defaults)),
        "__new__": new,
        "_make": _make,
        "_replace": _replace,
        "__repr__": _repr,
        "_asdict": _asdict,
        "__getnewargs__": _getnewargs,
    }
    if sys.version_info >= (3, 10):  # as namedtuple: pattern matching came with 3.10
        namespace["__match_args__"] = tuple(fields)
    for index, field in enumerate(fields):
        namespace[field] = _tuplegetter(index, f"Alias for field number {index}")
    cls = type(name, (tuple,), namespace)
    if module is not None:
        cls.__module__ = module  # type: ignore[assignment]
    return cls


@classmethod  # type: ignore[misc]
def _make(cls, iterable):  # type: ignore[no-untyped-def]
    """Make a new object from a sequence or iterable."""
    result = _tuple_new(cls, iterable)
    if len(result) != len(cls._fields):
        raise TypeError(f"Expected {len(cls._fields)} arguments, got {len(result)}")
    return result


def _replace(self, **changes):  # type: ignore[no-untyped-def]
    """Return a new object replacing specified fields with new values."""
    result = self._make(map(changes.pop, self._fields, self))
    if changes:
        raise _UNKNOWN_FIELD(f"Got unexpected field names: {list(changes)!r}")
    return result


def _repr(self):  # type: ignore[no-untyped-def]
    """Return a nicely formatted representation string."""
    return (self.__class__.__name__ + "("
            + ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self)) + ")")


def _asdict(self) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """Return a new dict which maps field names to their values."""
    return dict(zip(self._fields, self))


def _getnewargs(self) -> tuple:  # type: ignore[no-untyped-def,type-arg]
    """Return self as a plain tuple. Used by copy and pickle."""
    return tuple(self)


def _annotations(namespace: dict) -> dict:  # type: ignore[type-arg]
    """The class body's annotations, in order: a dict before Python 3.14, a function after
    (PEP 649), which with `from __future__ import annotations` returns the strings."""
    if "__annotations__" in namespace:
        return namespace["__annotations__"]  # type: ignore[no-any-return]
    annotate = namespace.get("__annotate__") or namespace.get("__annotate_func__")
    if annotate is None:
        return {}
    try:
        return annotate(1)  # type: ignore[no-any-return]  # Format.VALUE
    except Exception:  # names not defined yet: ask for forward references instead
        import annotationlib  # type: ignore[import-not-found,unused-ignore]

        return annotationlib.call_annotate_function(  # type: ignore[no-any-return]
            annotate, annotationlib.Format.FORWARDREF)


class NamedTuple(metaclass=_Maker):
    """Base of the records: `class X(NamedTuple): field: type = default`."""

    _is_record_base = True
