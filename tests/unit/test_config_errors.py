"""Config problems as `<file>: <key>: <problem>`: the key's text and which source set it."""

from __future__ import annotations

import pytest

from geneint.config_errors import ConfigError, check_against_schema, key_text, source_of

SCHEMA = {"type": "object", "additionalProperties": False, "properties": {
    "train": {"type": "object", "additionalProperties": False,
              "properties": {"epochs": {"type": "integer", "minimum": 1}}},
    "dims": {"type": "array", "items": {"type": "integer"}}}}


def test_key_text_reads_like_the_yaml():
    assert key_text(("models", "dango", "dim", 0)) == "models.dango.dim[0]"
    assert key_text(()) == "(top level)"


def test_the_highest_precedence_source_that_sets_the_key_is_named():
    sources = [("--config", {"train": {"epochs": 3}}), ("mine.yaml", {"train": {"lr": 1}}),
               ("config/config.yaml", {"train": {"epochs": 60}, "dims": [1]})]
    assert source_of(("train", "epochs"), sources) == "--config"
    assert source_of(("train", "lr"), sources) == "mine.yaml"
    assert source_of(("dims", 0), sources) == "config/config.yaml"
    # A key nobody set (a required one) is attributed to the closest parent that is set.
    assert source_of(("train", "patience"), sources) == "--config"


def test_every_problem_is_one_line_with_file_and_key():
    config = {"train": {"epochs": 0, "lr": 1}, "dims": [1, "x"]}
    with pytest.raises(ConfigError) as err:
        check_against_schema(config, SCHEMA, [("mine.yaml", config)])
    assert str(err.value).splitlines() == [
        "mine.yaml: dims[1]: 'x' is not of type 'integer'",
        "mine.yaml: train.epochs: 0 is less than the minimum of 1",
        "mine.yaml: train.lr: unknown key; known here: epochs",
    ]


def test_a_valid_config_passes():
    check_against_schema({"train": {"epochs": 2}}, SCHEMA, [("c.yaml", {})])
