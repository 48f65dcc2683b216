"""The sweep: per-model grids, point paths, the flags each model gets, and one source of
defaults and choices for the workflow and the CLI."""

from __future__ import annotations

import argparse

import pytest
import yaml

from geneint.cli import build_parser
from geneint.graphs.network import LAMBDA_MODES
from geneint.models.dango import DANGO_VARIANTS
from geneint.models.registry import MODELS
from geneint.schema import (
    coerce_numbers,
    config_default,
    config_node,
    config_schema,
    model_axes,
    sweep_model_names,
    sweep_schema,
)
from geneint.sweep import (
    expand_sweep,
    model_flags,
    parse_point,
    point_path,
    point_pattern,
    split_kind_and_fold,
)
from geneint.train.objectives import ALPHA_SCHEDULES
from geneint.train.set_regression import LR_SCHEDULERS

SWEEP = {"grid": {"model": ["dango", "additive", "mean"], "split": ["random0", "gene1"]},
         "models": {"dango": {"dim": [32, 64], "lr": [0.001]}}, "seeds": [0, 1]}


def test_each_model_multiplies_only_its_own_axes():
    points, seeds = expand_sweep(SWEEP)
    by_model = {}
    for point in points:
        by_model.setdefault(point["model"], []).append(point)
    assert len(by_model["dango"]) == 2 * 2  # dims x splits
    assert len(by_model["additive"]) == len(by_model["mean"]) == 2  # splits only
    assert set(by_model["additive"][0]) == {"model", "split"}
    assert seeds == ["0", "1"]
    # DANGO's axes left out take the schema's defaults
    assert {p["variant"] for p in by_model["dango"]} == {"spec"}
    assert {p["lr"] for p in by_model["dango"]} == {"0.001"}


def test_point_paths_round_trip_and_match_only_their_runner():
    points, _ = expand_sweep(SWEEP)
    neural = point_pattern([m for m, s in MODELS.items() if s.runner == "neural"])
    import re

    for point in points:
        path = point_path(point)
        assert parse_point(f"results/x/train/{path}/seed0") == point
        assert bool(re.fullmatch(neural, path)) == (point["model"] == "dango")
    assert point_path(points[0]).startswith("model~dango/split~random0/graphs~string9.1/")


def test_flags_carry_only_what_the_model_uses():
    config = {"train": {"epochs": 7, "batch_size": 64}, "pretrain": {"embedding_seed": 3},
              "baselines": {"additive": {"alphas": [0.1, 1.0]},
                            "random_forest": {"n_estimators": 5}}}
    points, _ = expand_sweep(SWEEP)
    dango = model_flags(points[0], config)
    assert "--epochs 7" in dango and "--embedding-seed 3" in dango and "--dim 32" in dango
    assert "--graphs" not in dango and "--lambda-mode" not in dango  # input choices, not flags
    additive = model_flags(next(p for p in points if p["model"] == "additive"), config)
    assert additive == "--alphas 0.1 1.0"
    assert model_flags(next(p for p in points if p["model"] == "mean"), config) == ""


@pytest.mark.parametrize("split, expected", [("random3", ("random", 3)), ("gene1", ("gene1", 0)),
                                             ("published", ("published", 0))])
def test_split_names(split, expected):
    assert split_kind_and_fold(split) == expected


@pytest.mark.parametrize("bad", ["random", "gene10", "published2", "x"])
def test_unknown_split_names_are_refused(bad):
    with pytest.raises(ValueError, match="unknown split"):
        split_kind_and_fold(bad)


def test_registry_and_schema_name_the_same_models_and_choices():
    assert set(sweep_model_names()) == set(MODELS)
    assert set(model_axes("dango")["variant"]["items"]["enum"]) == set(DANGO_VARIANTS)
    assert set(model_axes("dango")["alpha_schedule"]["items"]["enum"]) == set(ALPHA_SCHEDULES)
    assert set(config_node("train.lr_scheduler")["enum"]) == set(LR_SCHEDULERS)
    assert set(model_axes("dango")["lambda_mode"]["items"]["enum"]) == set(LAMBDA_MODES)


def _defaults(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def test_a_stage_run_by_hand_takes_the_workflow_defaults():
    args = _defaults(["train", "dango", "--interactions", "i", "--genes", "g", "--split", "s",
                      "--graphs", "a.npz", "--out", "o"])
    assert {"epochs", "batch_size", "patience"} <= set(config_default("train"))
    for key, value in config_default("train").items():
        assert getattr(args, key) == value, key
    axes = model_axes("dango")
    assert args.lr == axes["lr"]["default"][0]
    assert args.alpha_schedule == axes["alpha_schedule"]["default"][0]
    assert args.dim == axes["dim"]["default"][0] and args.variant == "spec"
    pretrain = _defaults(["pretrain", "--graph", "a.npz", "--genes", "g", "--out", "o"])
    for key, value in config_default("pretrain").items():
        assert getattr(pretrain, key) == value, key
    assert pretrain.dim == args.dim
    rf = _defaults(["train", "rf_pair_features", "--interactions", "i", "--genes", "g",
                    "--split", "s", "--graphs", "a.npz", "--out", "o"])
    for key, value in config_default("baselines.random_forest").items():
        assert getattr(rf, key) == value, key
    split = _defaults(["split", "--interactions", "i", "--kind", "random", "--out", "o"])
    for key, value in config_default("split").items():
        assert getattr(split, key) == value, key


def test_numbers_yaml_reads_as_strings_become_numbers():
    sweep = yaml.safe_load("models:\n  dango: {lr: [1e-3, 0.01], dim: [64], variant: [spec]}\n")
    assert sweep["models"]["dango"]["lr"] == ["1e-3", 0.01]  # YAML 1.1
    fixed = coerce_numbers(sweep, sweep_schema(), sweep_schema())
    assert fixed["models"]["dango"] == {"lr": [0.001, 0.01], "dim": [64], "variant": ["spec"]}
    config = {"train": {"weight_decay": "1e-4", "epochs": "1e2", "lr_scheduler": "cosine"},
              "graphs": {"lambda": {"fusion": "1e-1"}}, "run": "1e3"}
    fixed = coerce_numbers(config, config_schema(), config_schema())
    assert fixed["train"] == {"weight_decay": 1e-4, "epochs": 100, "lr_scheduler": "cosine"}
    assert fixed["graphs"]["lambda"] == {"fusion": 0.1} and fixed["run"] == "1e3"
    # not a number: left for the schema to refuse with its own message
    assert coerce_numbers({"pretrain": {"lr": "fast"}}, config_schema(),
                          config_schema())["pretrain"]["lr"] == "fast"


def test_the_cli_refuses_what_the_schema_refuses():
    with pytest.raises(SystemExit):
        _defaults(["train", "dango", "--interactions", "i", "--genes", "g", "--split", "s",
                   "--graphs", "a.npz", "--out", "o", "--lr-scheduler", "exponential"])


def test_dango_training_defaults_are_the_workflow_defaults():
    from geneint.train.dango import DangoTraining

    options = DangoTraining.defaults(lr=1e-3)
    assert options.lr == 1e-3
    assert options.epochs == config_default("train.epochs")
    assert options.alpha_schedule == model_axes("dango")["alpha_schedule"]["default"][0]


def test_dcell_trained_by_hand_is_the_workflow_dcell():
    from geneint.train.dcell import DCellOptions

    args = _defaults(["train", "dcell", "--interactions", "i", "--genes", "g", "--split", "s",
                      "--ontology", "o.json", "--out", "o"])
    by_hand = DCellOptions.from_namespace(args)
    assert by_hand == DCellOptions.defaults()
    assert by_hand.aux_reduction == "sum" and by_hand.aux_weight == 0.3
    assert by_hand.min_neurons == 20 and by_hand.neuron_ratio == 0.3


def test_hetero_sagpool_trained_by_hand_is_the_workflow_hetero_sagpool():
    from geneint.train.hetero_sagpool import HeteroSAGPoolOptions

    args = _defaults(["train", "hetero_sagpool", "--interactions", "i", "--genes", "g",
                      "--split", "s", "--graphs", "a.npz", "--out", "o"])
    by_hand = HeteroSAGPoolOptions.from_namespace(args)
    assert by_hand == HeteroSAGPoolOptions.defaults()
    assert (by_hand.layers, by_hand.ratio, by_hand.scope, by_hand.perturbed) == (13, 0.8, "khop",
                                                                                "flag")
    # Its classes are evaluate's: one setting for the labels and for scoring every model.
    assert by_hand.strong_threshold == config_default("evaluate.strong_threshold")
    assert args.embeddings is None and by_hand.features == "learned"


def _subcommand_parsers(parser: argparse.ArgumentParser, prog: str = "geneint"):
    """Every (sub)command's parser, nested ones (``graphs build``, ``train dango``) included."""
    yield prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _subcommand_parsers(sub, f"{prog} {name}")


def test_every_subcommand_renders_its_help():
    # argparse %-formats help text: a schema description with a bare "%" ("~4.6% edges")
    # once made `geneint graphs build --help` crash with a TypeError.
    rendered = dict(_subcommand_parsers(build_parser()))
    assert {"geneint graphs build", "geneint train dango", "geneint pretrain"} <= set(rendered)
    for prog, parser in rendered.items():
        assert parser.format_help(), prog
    assert "~4.6% edges" in " ".join(rendered["geneint graphs build"].format_help().split())
