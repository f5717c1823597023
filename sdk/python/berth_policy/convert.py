"""Fixture JSON <-> the generated contract types, driven by their type hints.

Fixtures (`berth-policy test`, `berthd explain`) hold requests and
decisions in the Rust SDK's serde form: records as objects with snake_case
fields, enums as strings ("v4"), variants externally tagged ("Abstain",
{"Pick": {...}}), options as null. componentize-py's generated classes have
the same field names, enum members and variant cases, so the conversion
reads everything from the classes' type hints: a field added to the WIT is
converted without a change here, and a fixture that does not fit the WIT
fails with the JSON path that is wrong.
"""

import dataclasses
import enum
import typing


class ConvertError(ValueError):
    """A JSON value does not fit the contract type it should be."""


def from_json(hint, value, path="$"):
    """The value of type `hint` (a generated class or typing form) that
    the serde JSON `value` describes."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is typing.Any:
        return value
    if hint in (str, bool):
        return _expect(value, hint, path)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConvertError(f"{path}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConvertError(f"{path}: expected a number, got {value!r}")
        return float(value)
    if origin in (list, typing.List):
        _expect(value, list, path)
        return [from_json(args[0], v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is typing.Union and type(None) in args:
        inner = [a for a in args if a is not type(None)]
        if value is None:
            return None
        return from_json(inner[0], value, path)
    if origin is typing.Union:
        return _variant_from_json(args, value, path)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        _expect(value, str, path)
        for member in hint:
            if _norm(member.name) == _norm(value):
                return member
        names = ", ".join(m.name.lower() for m in hint)
        raise ConvertError(f"{path}: {value!r} is not one of {names}")
    if dataclasses.is_dataclass(hint):
        return _record_from_json(hint, value, path)
    raise ConvertError(f"{path}: no conversion for {hint!r}")


def to_json(value):
    """The serde JSON form of a generated value (the inverse of
    `from_json`, for messages and for writing fixtures)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if dataclasses.is_dataclass(value):
        name = type(value).__name__
        fields = dataclasses.fields(value)
        if _is_case(type(value)):
            case = name.split("_", 1)[1]
            if not fields:
                return case
            return {case: to_json(value.value)}
        return {f.name: to_json(getattr(value, f.name)) for f in fields}
    raise ConvertError(f"no JSON form for {value!r}")


def _record_from_json(cls, value, path):
    _expect(value, dict, path)
    hints = typing.get_type_hints(cls)
    fields = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ConvertError(f"{path}: unknown field {unknown[0]!r} for {cls.__name__}")
    out = {}
    for name in fields:
        hint = hints[name]
        if name in value:
            out[name] = from_json(hint, value[name], f"{path}.{name}")
        elif _optional(hint):
            # serde reads a missing `Option` field as `None`; so do we.
            out[name] = None
        else:
            raise ConvertError(f"{path}: missing field {name!r} of {cls.__name__}")
    return cls(**out)


def _variant_from_json(cases, value, path):
    if isinstance(value, str):
        name, payload, has_payload = value, None, False
    elif isinstance(value, dict) and len(value) == 1:
        ((name, payload),) = value.items()
        has_payload = True
    else:
        raise ConvertError(f"{path}: expected a variant (\"Case\" or {{\"Case\": value}}), got {value!r}")
    for case in cases:
        if not _is_case(case) or _norm(case.__name__.split("_", 1)[1]) != _norm(name):
            continue
        fields = dataclasses.fields(case)
        if not fields:
            if has_payload and payload is not None:
                raise ConvertError(f"{path}: {name} takes no value")
            return case()
        if not has_payload:
            raise ConvertError(f"{path}: {name} needs a value")
        hint = typing.get_type_hints(case)["value"]
        return case(from_json(hint, payload, f"{path}.{name}"))
    known = ", ".join(c.__name__.split("_", 1)[1] for c in cases if _is_case(c))
    raise ConvertError(f"{path}: {name!r} is not one of {known}")


def _is_case(cls):
    """componentize-py names a variant's cases `<Variant>_<Case>`."""
    return "_" in cls.__name__ and dataclasses.is_dataclass(cls)


def _optional(hint):
    return typing.get_origin(hint) is typing.Union and type(None) in typing.get_args(hint)


def _norm(name):
    """Compares names across spellings: `V4`/`v4`, `RestrictPools`/`restrict-pools`."""
    return name.replace("_", "").replace("-", "").lower()


def _expect(value, kind, path):
    if isinstance(value, bool) and kind is not bool:
        raise ConvertError(f"{path}: expected {kind.__name__}, got {value!r}")
    if not isinstance(value, kind):
        raise ConvertError(f"{path}: expected {kind.__name__}, got {value!r}")
    return value
