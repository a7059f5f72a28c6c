"""Records that cost nothing to define.

`class Finding(NamedTuple)` reads well and type-checks, but `typing` costs milliseconds to
import and `typing.NamedTuple` checks every field's annotation when the class is made -- paid
on every commit by the hook, for a few dozen records. Modules on the check's path write

    TYPE_CHECKING = False
    if TYPE_CHECKING:
        from typing import NamedTuple
    else:
        from drift_guard._record import NamedTuple

and get, at run time, the same class `collections.namedtuple` makes: the fields in annotation
order, their defaults, and the methods, properties and docstring of the class body. Type
checkers see `typing.NamedTuple`.
"""

from __future__ import annotations

from collections import namedtuple

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
        cls = namedtuple(name, fields, defaults=defaults,  # type: ignore[misc]
                         module=namespace.get("__module__"))
        for key, value in namespace.items():
            if key in _PROHIBITED:
                raise AttributeError(f"{name}: cannot overwrite NamedTuple attribute {key}")
            if key not in _SPECIAL and key not in fields:
                setattr(cls, key, value)
        if namespace.get("__doc__"):
            cls.__doc__ = namespace["__doc__"]
        cls.__qualname__ = namespace.get("__qualname__", name)
        return cls


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
