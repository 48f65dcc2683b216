"""Config and sweep problems told where the user looks: the file and the key that set them.

Snakemake's own schema check reports a bad value as a JSON-schema dump located in the rule
file that called it. Here every problem becomes one line, ``<file>: <key>: <problem>``, naming
the highest-precedence source that set the key: ``--config`` on the command line, then the
``--configfile`` files (the last one wins), then ``config/config.yaml``. Light on imports:
the workflow reads this module at parse time (jsonschema comes with Snakemake).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

KeyPath = tuple[Any, ...]


class ConfigError(ValueError):
    """A config or sweep file holds a value the workflow cannot use."""


def key_text(path: KeyPath) -> str:
    """``("models", "dango", "dim", 0)`` → ``models.dango.dim[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(top level)"


def schema_problems(instance: Any, schema: Mapping[str, Any]) -> list[tuple[KeyPath, str]]:
    """Every violation of ``schema`` as (key path, problem), in key order."""
    import jsonschema

    validator = jsonschema.validators.validator_for(schema)(schema)
    problems = []
    for error in validator.iter_errors(instance):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = list(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - set(known)):
                problems.append((path + (key,),
                                 f"unknown key; known here: {', '.join(known) or 'none'}"))
        else:
            problems.append((path, error.message))
    return sorted(problems, key=lambda p: key_text(p[0]))


def _holds(data: Any, path: KeyPath) -> bool:
    for part in path:
        if isinstance(data, Mapping) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return False
    return True


def source_of(path: KeyPath, sources: Sequence[tuple[str, Any]]) -> str:
    """The first source (highest precedence first) that sets ``path``, else its parent."""
    for depth in range(len(path), 0, -1):
        for label, data in sources:
            if _holds(data, path[:depth]):
                return label
    return sources[-1][0] if sources else "config"


def check_against_schema(instance: Any, schema: Mapping[str, Any],
                         sources: Sequence[tuple[str, Any]]) -> None:
    """Raise :class:`ConfigError` listing every problem as ``<file>: <key>: <problem>``."""
    problems = schema_problems(instance, schema)
    if problems:
        raise ConfigError("\n".join(f"{source_of(path, sources)}: {key_text(path)}: {problem}"
                                    for path, problem in problems))
