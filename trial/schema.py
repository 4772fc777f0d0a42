"""Declared schemas of the data files (protocols in trial/protocols/, CRFs in crf/forms/): the strict model
they are built from, the types they share, and one way of writing their problems.

A file is validated in one pass and every problem is listed at once, one line each: `<where>: <what>`.
`where` is the value's path in the file: `sites[0] code`, `visits.schedule[2] (M3) day`, `fields[6]
(operative_time)`; a list item that has a code shows it in parentheses after its index. The shapes (keys,
types, codes, texts) of every part are checked together; a reference from one part to another is checked
once both parts have their shape (a reference into a malformed part cannot be judged).

Nothing is coerced: a YAML value has the type it was written with. `07` unquoted is the number 7 and
`1.10` the number 1.1, so codes and versions must be quoted strings; `true` is not 1 and "5" is not 5.
"""

import math
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    WrapValidator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

from .i18n import LANGUAGES


class StrictModel(BaseModel):
    """A mapping of a data file: declared keys only, each value of its declared type, read-only.

    An optional key is declared `key: T = None`: left out, it is None; written, it must be a T. An empty
    `key:` (null) is a mistake, not a way of leaving it out.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# --- problems -----------------------------------------------------------------------------------------

_KNOWN_TYPES = frozenset(get_args(ErrorType))  # pydantic's own error types; anything else is one of ours


def problem(loc: tuple, message: str, value: object = None) -> InitErrorDetails:
    """One problem at `loc` (relative to the value being validated), worded by us."""
    return InitErrorDetails(
        type=PydanticCustomError("problem", "{message}", {"message": message}), loc=loc, input=value
    )


def invalid(errors: list) -> ValidationError:
    """A ValidationError carrying these problems: ours (from `problem`) or pydantic's (from `.errors()`).

    Raised inside a validator, pydantic puts each under the location of the value being validated.
    """
    details = []
    for error in errors:
        if isinstance(error.get("type"), PydanticCustomError):
            details.append(error)
        elif error["type"] in _KNOWN_TYPES:
            details.append(
                InitErrorDetails(type=error["type"], loc=error["loc"], input=error.get("input"))
                | ({"ctx": error["ctx"]} if "ctx" in error else {})
            )
        else:  # one of ours, already worded
            details.append(problem(error["loc"], error["msg"], error.get("input")))
    return ValidationError.from_exception_data("data file", details)


def _shown(value: object) -> str:
    """` (got 7)` after a problem with a short scalar, so that the reader finds it in the file."""
    if value is None or (isinstance(value, bool | int | float | str) and len(repr(value)) <= 60):
        return f" (got {value!r})"
    return ""


def says(sentence: str, *, got: bool = True) -> WrapValidator:
    """Whatever is wrong with this value (its type, its pattern, its parts) reads as this one sentence."""

    def validate(value, handler):
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError(
                "says", "{sentence}", {"sentence": sentence + (_shown(value) if got else "")}
            ) from None

    return WrapValidator(validate)


_SHAPES = frozenset(
    {"list_type", "dict_type", "model_type", "model_attributes_type", "too_short", "too_long"}
)


def shaped(sentence: str) -> WrapValidator:
    """A value of the wrong kind (not a mapping, an empty list) reads as this sentence; problems inside it
    (a key, an item) and our own worded problems keep their words and places."""

    def validate(value, handler):
        try:
            return handler(value)
        except ValidationError as exc:
            if all(not error["loc"] and error["type"] in _SHAPES for error in exc.errors()):
                raise PydanticCustomError("says", "{sentence}", {"sentence": sentence}) from None
            raise

    return WrapValidator(validate)


def fail_if(problems: list[InitErrorDetails]) -> None:
    """Raise every problem a validator found at once (none: nothing happens)."""
    if problems:
        raise invalid(problems)


_PHRASES = {
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "string_type": "must be a quoted string",
    "date_type": "must be a date (YYYY-MM-DD)",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "too_short": "must not be empty",
}


def _what(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind not in _KNOWN_TYPES or kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    if kind == "literal_error":
        phrase = f"must be {ctx['expected']}"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()))
        phrase = {
            "greater_than_equal": f"must be {bound} or more",
            "greater_than": f"must be more than {bound}",
            "less_than_equal": f"must be {bound} or less",
            "less_than": f"must be less than {bound}",
        }[kind]
    elif kind == "string_pattern_mismatch":
        return f"{error['input']!r} does not match {ctx['pattern']}"
    else:
        phrase = _PHRASES.get(kind, error["msg"])
    return phrase + _shown(error.get("input"))


def where(loc: tuple, data: object) -> str:
    """A location in words: ("visits", "schedule", 2, "day") -> "visits.schedule[2] (M3) day"; a key after a
    list item is set off by a space, as in "sites[0] code"."""
    text, node = "", data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list):
            text += f"[{part}]"
            node = node[part] if 0 <= part < len(node) else None
            code = node.get("code") if isinstance(node, dict) else None
            if isinstance(code, str) and code:
                text += f" ({code})"
        elif isinstance(part, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            text += ("" if not text else " " if text.endswith(("]", ")")) else ".") + part
            node = node.get(part) if isinstance(node, dict) else None
        else:  # a key that is not a name: ranges["1.5"], anchors["Bad Name"]
            text += f"[{part!r}]"
            node = node.get(part) if isinstance(node, dict) else None
    return text


def problems(error: ValidationError, data: object) -> list[str]:
    """Every problem of a validation, one line each, in file order; the unknown keys of one mapping share
    a line. `data` is what was validated (it names list items by their codes)."""
    lines: list[str] = []
    unknown: dict[str, list[str]] = {}
    for e in error.errors():
        loc = tuple(part for part in e["loc"] if part != "[key]")  # a bad key of a mapping: at the key
        if e["type"] == "extra_forbidden":
            parent = where(loc[:-1], data)
            if parent not in unknown:
                unknown[parent] = []
                lines.append(("unknown", parent))
            unknown[parent].append(str(loc[-1]))
        elif e["type"] == "missing":
            lines.append(_line(where(loc[:-1], data), f"missing {loc[-1]}"))
        else:
            lines.append(_line(where(loc, data), _what(e)))
    out = []
    for line in lines:
        if isinstance(line, tuple):
            line = _line(line[1], f"unknown key(s) {', '.join(unknown[line[1]])}")
        if line not in out:
            out.append(line)
    return out


def _line(place: str, what: str) -> str:
    return f"{place}: {what}" if place else what


# --- shared types -------------------------------------------------------------------------------------


def code(pattern: str | None, example: str, *, rule: str | None = None) -> Any:
    """A code: a quoted string matching `pattern` (anchored). `rule` words the pattern for the reader."""

    def validate(value, handler):
        if not isinstance(value, str):
            raise PydanticCustomError(
                "quoted",
                "{message}",
                {"message": f"write it as a quoted string, e.g. {example!r} (got {value!r})"},
            )
        try:
            return handler(value)
        except ValidationError:
            broken = rule or f"does not match {pattern}"
            raise PydanticCustomError("code", "{message}", {"message": f"{value!r} {broken}"}) from None

    return Annotated[str, Field(pattern=pattern) if pattern else Field(), WrapValidator(validate)]


def _every_language(text: dict) -> dict:
    if set(text) != set(LANGUAGES):
        raise ValueError("a language is missing")
    return text


# A text of the pages, in every language: {en: ..., zh-hans: ...}, none blank, no other language.
Text = Annotated[
    dict[Literal[LANGUAGES], Annotated[str, Field(pattern=r"\S")]],
    AfterValidator(_every_language),
    says(f"give the text in {' and '.join(LANGUAGES)} (each not blank, no other language)", got=False),
]

NonBlank = Annotated[str, Field(pattern=r"\S")]


def _number(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PydanticCustomError("number", "{message}", {"message": "must be a number" + _shown(value)})
    return value


def _scalar(value: object) -> object:
    if not isinstance(value, bool | int | float | str):
        raise PydanticCustomError(
            "scalar", "{message}", {"message": "must be one value: true/false, a number or a quoted code"}
        )
    return value


# A number as written: an int stays an int (1, not 1.0, in messages); never a bool.
Number = Annotated[int | float, PlainValidator(_number)]
# A value a condition or a rule compares with: true/false, a number or a string, as written.
Scalar = Annotated[bool | int | float | str, PlainValidator(_scalar)]


def _no_repeats(repeated) -> WrapValidator:
    """A list without repeats; `repeated(value)` finds them on the list as written, so that a repeat is named
    beside every other problem of the list (it needs only the names, not items right in every other way)."""

    def validate(value, handler):
        repeats = repeated(value) if isinstance(value, list) else []
        try:
            result = handler(value)
        except ValidationError as exc:
            if not repeats:
                raise
            raise invalid(exc.errors() + repeats) from None
        fail_if(repeats)
        return result

    return WrapValidator(validate)


def _seen_before(names: list) -> list[tuple[int, object, int]]:
    """(index, name, index of its first occurrence) of each name that occurred earlier in the list."""
    first: dict = {}
    found = []
    for index, name in enumerate(names):
        if name is not None and name in first:
            found.append((index, name, first[name]))
        first.setdefault(name, index)
    return found


def unique(key: str = "code") -> WrapValidator:
    """The items (mappings) of a list have distinct `key`s: `duplicate code 'EXC1' (first at [3])`."""

    def repeated(items: list) -> list:
        names = [
            item.get(key) if isinstance(item, dict) and isinstance(item.get(key), str) else None
            for item in items
        ]
        return [
            problem((index, key), f"duplicate {key} {name!r} (first at [{first}])", name)
            for index, name, first in _seen_before(names)
        ]

    return _no_repeats(repeated)


def _listed_twice(values: list) -> list:
    names = [value if isinstance(value, str) else None for value in values]
    return [
        problem((index,), f"{name!r} is listed twice", name) for index, name, _first in _seen_before(names)
    ]


# The values (codes) of a list are distinct: `'odi' is listed twice`.
distinct = _no_repeats(_listed_twice)
