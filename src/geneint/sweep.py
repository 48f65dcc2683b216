"""The sweep: ``config/sweep.yaml`` expanded into points, and a point's path, inputs and flags.

A point is one model at one value of every shared axis (``grid``) and of its own axes
(``models.<name>``), e.g. ``{model: dango, split: random0, graphs: string9.1, variant: spec,
…}``. Its path is ``key~value`` components in that order
(``model~dango/split~random0/graphs~string9.1/…``), so every swept value is in the output path
and adding a value adds only new paths. The workflow (``workflow/rules/setup.smk``,
``common.smk``) wires these into rules; nothing here touches files.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from geneint.graphs import sets as graph_sets
from geneint.models.registry import MODELS, model_spec
from geneint.schema import fill_defaults, flag_value, model_axes, sweep_schema

_COMPONENT = re.compile(r"^(?P<key>[a-z_]+)~(?P<value>[^/]+)$")
_SPLIT = re.compile(r"^(?P<kind>random|gene1|gene2|published)(?P<fold>[0-9]*)$")


def expand_sweep(sweep: dict[str, Any]) -> tuple[list[dict[str, str]], list[str]]:
    """Every point of a (validated) sweep, in grid order, and the seeds; values as text."""
    sweep = fill_defaults(sweep, sweep_schema(), sweep_schema())
    points: list[dict[str, str]] = []
    for model in sweep["grid"]["model"]:
        model_spec(model)
        axes = list(model_axes(model))
        own = sweep["models"][model]  # every axis filled from the schema's defaults
        for split in sweep["grid"]["split"]:
            for values in itertools.product(*(own[axis] for axis in axes)):
                point = {"model": model, "split": split, **dict(zip(axes, values, strict=True))}
                points.append({k: str(v) for k, v in point.items()})
    return points, [str(s) for s in sweep["seeds"]]


def point_path(point: dict[str, str]) -> str:
    return "/".join(f"{key}~{value}" for key, value in point.items())


def parse_point(path: str) -> dict[str, str]:
    """The point encoded in a path's ``key~value`` components (other components ignored)."""
    point = {}
    for part in path.split("/"):
        if match := _COMPONENT.match(part):
            point[match["key"]] = match["value"]
    if "model" not in point or "split" not in point:
        raise ValueError(f"{path!r} is not a sweep point path (model~…/split~…/…)")
    return point


def point_pattern(models: list[str]) -> str:
    """Regex of the point paths of some models (a wildcard constraint)."""
    names = "|".join(re.escape(m) for m in models)
    return rf"model~(?:{names})/split~[^/]+(?:/[a-z_]+~[^/]+)*"


def split_kind_and_fold(split: str) -> tuple[str, int]:
    """``random3`` → (``random``, 3); ``gene1`` → (``gene1``, 0); ``published`` → (…, 0)."""
    match = _SPLIT.match(split)
    if not match or (match["kind"] == "random") != bool(match["fold"]):
        raise ValueError(f"unknown split {split!r}; use random<fold>, gene1, gene2 or published")
    return match["kind"], int(match["fold"] or 0)


def point_networks(point: dict[str, str], channels: list[str]) -> list[str]:
    """Network names (``string_v9.1_coexpression``, ``physical``…) of a point that uses graphs:
    every network of its graph set (:mod:`geneint.graphs.sets`). A model that reads the
    metabolic model's typed relations (``needs`` metabolism) does not also get their gene–gene
    projection."""
    names = graph_sets.networks(point["graphs"], channels)
    if "metabolism" in model_spec(point["model"]).needs:
        names = [n for n in names if n != "metabolism"]
    return names


def point_needs(point: dict[str, str]) -> frozenset[str]:
    """What a point's model needs: the registry's ``needs``, and its ``needs_when`` inputs
    whose axis has the named value at this point."""
    spec = model_spec(point["model"])
    extra = {need for need, (axis, value) in spec.needs_when.items() if point.get(axis) == value}
    return spec.needs | extra


#: The axes that choose a pretraining run (``pretrain/variant~…/dim~…/lambda~…``).
PRETRAINING_AXES = ("variant", "dim", "lambda_mode")


def pretraining_of(point: dict[str, str]) -> dict[str, str]:
    """The pretraining a point reads: its own pretraining axes (DANGO, the embedding models),
    else DANGO's defaults (e.g. hetero_sagpool's pretrained features, whose ``dim`` is its own
    hidden size)."""
    if set(PRETRAINING_AXES) <= set(model_axes(point["model"])):
        return {axis: point[axis] for axis in PRETRAINING_AXES}
    axes = model_axes("dango")
    return {axis: str(axes[axis]["default"][0]) for axis in PRETRAINING_AXES}


def graph_lambda_mode(point: dict[str, str]) -> str:
    """Which λ build of the graphs a point reads: its own axis, else ``one`` (models that do
    not reconstruct networks ignore λ, and λ = 1 needs no second release or config)."""
    return point.get("lambda_mode", "one")


def lookup(config: dict[str, Any], dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        value = value[part]
    return value


def model_flags(point: dict[str, str], config: dict[str, Any]) -> str:
    """The ``geneint train <model>`` flags of a point: its own axes that are not input choices,
    then the config settings the model declares. Only what the model uses is in the text, so
    changing another model's setting reruns none of this model's jobs."""
    spec = model_spec(point["model"])
    flags = [f"--{axis.replace('_', '-')} {point[axis]}" for axis in model_axes(spec.name)
             if axis not in spec.input_axes]
    for dotted in spec.settings:
        value = lookup(config, dotted)
        items = value.items() if isinstance(value, dict) else [(dotted.rsplit(".", 1)[-1],
                                                                value)]
        flags += [f"--{key.replace('_', '-')} {flag_value(v)}" for key, v in items]
    return " ".join(flags)


def check_models_known() -> None:
    """The registry and the sweep schema name the same models."""
    from geneint.schema import sweep_model_names

    if set(sweep_model_names()) != set(MODELS):
        raise RuntimeError(f"sweep schema models {sorted(sweep_model_names())} differ from the "
                           f"registry {sorted(MODELS)}")
