"""Validation of configuration values against models, one problem per bad value.

Pydantic reports each invalid field; `translate` turns its errors into `Problem`s
whose path is the stack file's own spelling (`accounts[3].id`).
"""

from __future__ import annotations

from typing import Any

import pydantic

from governance.fields import ERROR_TYPE, Model, suggest
from governance.problems import SECRET_MASK, Problem, show

# Fields whose values are secrets: an error about one never prints the value.
SECRET_FIELDS = frozenset({"externalId"})


def parse(
    model: type[Model],
    value: Any,
    path: str,
    problems: list[Problem],
    *,
    secret: bool = False,
) -> Any:
    """Validate one value against a model; on failure add its problems, return None.

    `secret` marks a value read from a key the CLI marked secret, so problems
    whose value could be a secret print the mask in its place.
    """
    if value is None:
        return None
    try:
        return model.model_validate(value)
    except pydantic.ValidationError as error:
        problems.extend(translate(error, path, model, secret=secret))
        return None


def parse_list(
    model: type[Model],
    value: Any,
    path: str,
    problems: list[Problem],
    *,
    allow_empty: bool = False,
    empty_fix: str = "add an entry",
    secret: bool = False,
) -> list[Any] | None:
    """Validate each entry of a list on its own, so one bad entry hides no other.

    Returns one model or None per entry, or None when the value is not a list.
    """
    if value is None:
        return None
    if not isinstance(value, list):
        problems.append(
            Problem(
                path=path,
                message="not a list",
                found=SECRET_MASK if secret else show(value),
                allowed="a list of entries",
                fix="write one entry per line, each starting with '- '",
            )
        )
        return None
    if not value and not allow_empty:
        problems.append(
            Problem(
                path=path,
                message="no entries",
                found="[]",
                allowed="at least one entry",
                fix=empty_fix,
            )
        )
        return None
    entries = []
    for index, entry in enumerate(value):
        if entry is None:
            problems.append(
                Problem(
                    f"{path}[{index}]",
                    "empty entry",
                    "null",
                    "a mapping of keys to values",
                    "fill in the entry or remove its '- ' line",
                )
            )
        entries.append(parse(model, entry, f"{path}[{index}]", problems, secret=secret))
    return entries


def translate(
    error: pydantic.ValidationError,
    prefix: str,
    model: type[Model],
    *,
    secret: bool = False,
) -> list[Problem]:
    """Turn pydantic's errors into problems with the config path of each value.

    The value of a secret field is masked, whatever is wrong with it. Inside a
    secret key, so is the value of every problem but this project's own field
    checks: an unknown or misplaced key may hold the secret itself.
    """
    problems = []
    for detail in error.errors(include_url=False):
        path = _join_path(prefix, detail["loc"])
        kind = detail["type"]
        masked = any(part in SECRET_FIELDS for part in detail["loc"]) or (
            secret and kind != ERROR_TYPE
        )
        found = SECRET_MASK if masked else show(detail.get("input"))
        context = detail.get("ctx") or {}
        if kind == ERROR_TYPE:
            problems.append(
                Problem(path, detail["msg"], found, context["allowed"], context["fix"])
            )
        elif kind == "extra_forbidden":
            problems.append(_unknown_key(path, detail["loc"], model, found))
        elif kind == "missing":
            problems.append(_missing_key(path, detail["loc"], model))
        else:
            problems.append(
                Problem(
                    path, detail["msg"], found, _expected(kind), "correct the value"
                )
            )
    return problems


def _expected(kind: str) -> str:
    return {
        "string_type": "a string",
        "list_type": "a list",
        "dict_type": "a mapping",
        "model_type": "a mapping of keys to values",
        "bool_type": "true or false",
        "bool_parsing": "true or false",
        "int_type": "a whole number",
        "int_parsing": "a whole number",
        "too_short": "at least one entry",
    }.get(kind, "a value of the documented type")


def _join_path(prefix: str, loc: tuple[Any, ...]) -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("function-after", "function-before"):
            continue
        else:
            path += f".{part}"
    return path


def _unknown_key(
    path: str, loc: tuple[Any, ...], model: type[Model], found: str
) -> Problem:
    key = str(loc[-1])
    owner = _model_at(model, loc[:-1])
    known = (
        sorted(field.alias or name for name, field in owner.model_fields.items())
        if owner
        else []
    )
    fix = suggest(key, known, "remove the key or use one of the keys listed")
    return Problem(
        path,
        "unknown key",
        f"{key}: {found}",
        "one of " + ", ".join(known) if known else "no other keys",
        fix if known else "remove the key",
    )


def _missing_key(path: str, loc: tuple[Any, ...], model: type[Model]) -> Problem:
    """Report a missing key, with what its field declares as allowed and the fix.

    A field may declare `json_schema_extra={"allowed": ..., "fix": ...}` when a
    bare "add the key" would not tell the user what to write.
    """
    key = str(loc[-1])
    owner = _model_at(model, loc[:-1])
    fields = (
        {field.alias or name: field for name, field in owner.model_fields.items()}
        if owner
        else {}
    )
    extra = getattr(fields.get(key), "json_schema_extra", None)
    hints = extra if isinstance(extra, dict) else {}
    return Problem(
        path,
        "missing required key",
        "nothing",
        str(hints.get("allowed", "a value")),
        str(hints.get("fix", f"add `{key}`")),
    )


def _model_at(model: type[Model], loc: tuple[Any, ...]) -> type[Model] | None:
    """Follow a location through nested models to the model that owns the last key."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, Model)):
            return None
        fields = {
            field.alias or name: field for name, field in current.model_fields.items()
        }
        if part not in fields:
            return None
        current = _model_in(fields[part].annotation)
    return current if isinstance(current, type) and issubclass(current, Model) else None


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None
