"""The config schemas — the one place where every default and every list of choices lives.

``schemas/config.schema.yaml`` describes ``config/config.yaml`` (shared knobs) and
``schemas/sweep.schema.yaml`` describes ``config/sweep.yaml`` (swept axes). The workflow
validates against these files, and the CLI builds its flags from them (:func:`add_flags`): a
stage run by hand takes the workflow's defaults, and a value the schema refuses is refused by
both. Light on imports (yaml only): the workflow reads this module at parse time.
"""

from __future__ import annotations

import argparse
import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SCHEMA_DIR = Path(__file__).parent / "schemas"
CONFIG_SCHEMA = SCHEMA_DIR / "config.schema.yaml"
SWEEP_SCHEMA = SCHEMA_DIR / "sweep.schema.yaml"

_TYPES = {"integer": int, "number": float, "string": str}


@cache
def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


@cache
def config_schema() -> dict[str, Any]:
    """The config schema, self-contained: a section kept in a file of its own
    (``perturbation.schema.yaml``, referenced by file name as Snakemake's validation reads it)
    is inlined, and that file's references back into ``config.schema.yaml`` become local."""
    return _inline_files(_load(CONFIG_SCHEMA), CONFIG_SCHEMA.name)


def _inline_files(node: Any, root_name: str) -> Any:
    if isinstance(node, list):
        return [_inline_files(item, root_name) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref", "")
    if ref and not ref.startswith("#"):
        file, _, fragment = ref.partition("#")
        rest = {k: v for k, v in node.items() if k != "$ref"}
        if file == root_name:
            return {"$ref": f"#{fragment}", **_inline_files(rest, root_name)}
        inlined = {k: v for k, v in _load(SCHEMA_DIR / file).items() if k != "$schema"}
        return _inline_files({**inlined, **rest}, root_name)
    return {key: _inline_files(value, root_name) for key, value in node.items()}


def sweep_schema() -> dict[str, Any]:
    return _load(SWEEP_SCHEMA)


def resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """``node`` with a local ``$ref`` (``#/$defs/x``) replaced by its target."""
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local $refs are supported, got {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def config_node(dotted: str) -> dict[str, Any]:
    """The subschema of a config key, e.g. ``train`` or ``train.epochs``."""
    root = config_schema()
    node = root
    for part in dotted.split("."):
        try:
            node = resolve(node["properties"][part], root)
        except KeyError:
            raise KeyError(f"the config schema has no key {dotted!r}") from None
    return node


def config_default(dotted: str) -> Any:
    """The default of a config key; for a section, with its keys' own defaults filled in."""
    return fill_defaults(copy.deepcopy(config_node(dotted)["default"]), config_node(dotted),
                         config_schema())


def settings_from(cls, values: dict[str, Any]):
    """A settings dataclass from a config section: its fields' values, other keys ignored."""
    import dataclasses

    return cls(**{f.name: values[f.name] for f in dataclasses.fields(cls) if f.name in values})


def config_choices(dotted: str) -> tuple[str, ...]:
    node = config_node(dotted)
    return tuple((node.get("items") or node)["enum"])


def model_axes(model: str) -> dict[str, dict[str, Any]]:
    """The swept axes of one model (``models.<model>`` of the sweep schema), resolved."""
    root = sweep_schema()
    try:
        node = resolve(root["properties"]["models"]["properties"][model], root)
    except KeyError:
        raise KeyError(f"the sweep schema has no model {model!r}") from None
    return {key: resolve(sub, root) for key, sub in node.get("properties", {}).items()}


def sweep_model_names() -> tuple[str, ...]:
    return tuple(sweep_schema()["properties"]["grid"]["properties"]["model"]["items"]["enum"])


def fill_defaults(instance: Any, node: dict[str, Any], root: dict[str, Any]) -> Any:
    """A copy of ``instance`` with every missing key that has a schema default filled in,
    recursively (following ``$ref``, which Snakemake's own default filling does not)."""
    node = resolve(node, root)
    if isinstance(instance, dict) and "properties" in node:
        out = dict(instance)
        for key, sub in node["properties"].items():
            sub = resolve(sub, root)
            if key not in out and "default" in sub:
                out[key] = copy.deepcopy(sub["default"])
            if key in out:
                out[key] = fill_defaults(out[key], sub, root)
        return out
    return instance


def _numeric_kinds(node: dict[str, Any]) -> set[str]:
    kinds = node.get("type", [])
    kinds = set(kinds if isinstance(kinds, list) else [kinds])
    return set() if "string" in kinds else kinds & {"number", "integer"}


def coerce_numbers(instance: Any, node: dict[str, Any], root: dict[str, Any]) -> Any:
    """A copy of ``instance`` in which strings that the schema wants as numbers are numbers.

    YAML 1.1 (PyYAML, hence Snakemake) reads ``1e-3`` — no dot — as the *string* "1e-3", and
    the schema would then refuse ``lr: [1e-3]`` with "'1e-3' is not of type 'number'". A string
    that is not a number is left alone for the schema to report.
    """
    node = resolve(node, root)
    if isinstance(instance, dict):
        extra = node.get("additionalProperties")
        subs = {key: node.get("properties", {}).get(key, extra) for key in instance}
        return {key: coerce_numbers(value, subs[key], root) if isinstance(subs[key], dict)
                else value for key, value in instance.items()}
    if isinstance(instance, list) and isinstance(node.get("items"), dict):
        return [coerce_numbers(value, node["items"], root) for value in instance]
    kinds = _numeric_kinds(node)
    if kinds and isinstance(instance, str):
        try:
            number = float(instance)
        except ValueError:
            return instance
        return int(number) if kinds == {"integer"} and number.is_integer() else number
    return instance


def _flag_type(node: dict[str, Any]):
    """The argparse type of a schema type; a nullable one also reads ``null``/``None`` (what
    a config's null becomes in a rule's command line) as None."""
    kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
    plain = [k for k in kinds if k != "null"]
    if len(plain) != 1 or plain[0] not in _TYPES:
        raise TypeError(f"no flag type for schema type {node['type']!r}")
    kind = _TYPES[plain[0]]
    if len(plain) == len(kinds):
        return kind

    def nullable(text: str):
        return None if text.lower() in ("null", "none") else kind(text)

    nullable.__name__ = kind.__name__
    return nullable


def _key_value_type(node: dict[str, Any]):
    """``KEY=VALUE`` → (key, value) with the schema's key and value types (object flags)."""
    value_type = _flag_type(node["additionalProperties"])
    key_type = int if node.get("x-keys") == "integer" else str

    def parse(text: str) -> tuple[Any, Any]:
        key, sep, value = text.partition("=")
        try:
            if not sep:
                raise ValueError
            return key_type(key), value_type(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r}: expected KEY=VALUE ({key_type.__name__}={value_type.__name__})"
            ) from None
    return parse


class _KeyValues(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, dict(values))


def add_flags(parser: argparse._ActionsContainer, nodes: dict[str, dict[str, Any]],
              axes: bool = False) -> None:
    """One ``--key-name`` flag per schema property, with the schema's type, choices, default
    and description. ``axes=True`` for sweep axes (lists of values): the flag takes one value
    and defaults to the axis's first default value.

    argparse %-formats help text (for ``%(default)s``), so a literal "%" of a description is
    escaped as "%%"; unescaped, "~4.6% edges" would make ``--help`` crash."""
    for key, node in nodes.items():
        flag = "--" + key.replace("_", "-")
        help_text = " ".join(str(node.get("description", "")).split()).replace("%", "%%")
        kwargs: dict[str, Any] = {"dest": key}
        if axes:
            item = node["items"]
            kwargs.update(type=_flag_type(item), default=node["default"][0])
            if "enum" in item:
                kwargs["choices"] = item["enum"]
        elif node["type"] == "boolean":
            kwargs.update(action=argparse.BooleanOptionalAction, default=node["default"])
        elif node["type"] == "object":
            kwargs.update(type=_key_value_type(node), nargs="*", action=_KeyValues,
                          metavar="KEY=VALUE", default=node["default"])
        elif node["type"] == "array":
            item = node["items"]
            # An array that may be empty ([] in a config) takes zero values on the command line.
            kwargs.update(type=_flag_type(item), nargs="+" if node.get("minItems") else "*",
                          default=node["default"])
            if "enum" in item:
                kwargs["choices"] = item["enum"]
        else:
            kwargs.update(type=_flag_type(node), default=node.get("default"))
            if "enum" in node:
                kwargs["choices"] = node["enum"]
        parser.add_argument(flag, help=f"{help_text} (default: %(default)s)", **kwargs)


def config_flags(parser: argparse._ActionsContainer, dotted: str) -> None:
    """Flags for a config section (``train``) or a single key (``pretrain.embedding_seed``)."""
    node = config_node(dotted)
    if node.get("type") == "object":
        add_flags(parser, {k: resolve(v, config_schema())
                           for k, v in node["properties"].items()})
    else:
        add_flags(parser, {dotted.rsplit(".", 1)[-1]: node})


def flag_value(value: Any) -> str:
    """A config value as CLI text (lists space-separated)."""
    if isinstance(value, bool):
        raise TypeError("boolean config values become --flag/--no-flag, not text")
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items())
    return str(value)
