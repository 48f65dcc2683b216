"""What a user sees when a `geneint` stage fails: one clear line, and for anything that is not
a bad input, the traceback in the log above it."""

from __future__ import annotations

import argparse
import logging
import re

import pytest

import geneint.cli as cli
from geneint.cli import build_parser, main


def _graph_args(*lambda_config: str) -> argparse.Namespace:
    return build_parser().parse_args(
        ["graphs", "build", "--network", "string_v9.1_fusion", "--edges", "e.parquet",
         "--releases", "9.1", "--genes", "g.tsv", "--out", "o.npz",
         "--lambda-config", *lambda_config])


def test_lambda_config_is_parsed_and_checked(capsys):
    assert _graph_args("fusion=0.5", "coexpression=1e-1").lambda_config == [
        ("fusion", 0.5), ("coexpression", 0.1)]
    assert _graph_args("physical=0.1").lambda_config == [("physical", 0.1)]
    for bad, message in (("coexpression", "expected NAME=λ"),
                         ("textmining=0.1", "expected NAME=λ"),
                         ("fusion=low", "'low' is not a number"),
                         ("fusion=2", r"must be in \(0, 1\]")):
        with pytest.raises(SystemExit):
            _graph_args(bad)
        err = capsys.readouterr().err
        assert "--lambda-config" in err and re.search(message, err), bad


def test_strong_thresholds_by_arity_are_key_value_flags(capsys):
    base = ["evaluate", "--predictions", "p", "--split", "s", "--out", "m"]
    assert build_parser().parse_args(base).strong_threshold_by_arity == {}
    args = build_parser().parse_args([*base, "--strong-threshold-by-arity", "2=0.08", "3=5e-2"])
    assert args.strong_threshold_by_arity == {2: 0.08, 3: 0.05}
    with pytest.raises(SystemExit):
        build_parser().parse_args([*base, "--strong-threshold-by-arity", "pairs=0.08"])
    assert "expected KEY=VALUE (int=float)" in capsys.readouterr().err


def _failing_parser(exc: Exception):
    def build() -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser()
        parser.add_argument("-v", "--verbose", action="store_true")

        def fail(args):
            raise exc

        parser.set_defaults(func=fail)
        return parser
    return build


def test_an_unexpected_error_keeps_its_traceback_above_the_message(monkeypatch, caplog):
    monkeypatch.setattr(cli, "build_parser", _failing_parser(RuntimeError("NCCL error 2")))
    with caplog.at_level(logging.ERROR, logger="geneint"):
        assert main([]) == 1
    first, last = caplog.records[-2].getMessage(), caplog.records[-1].getMessage()
    assert first.startswith("Traceback") and "in fail" in first
    assert last == "NCCL error 2"
    with pytest.raises(RuntimeError, match="NCCL"):
        main(["-v"])


def test_a_bad_input_file_is_one_line(tmp_path, caplog):
    missing = tmp_path / "predictions.parquet"
    with caplog.at_level(logging.ERROR, logger="geneint"):
        assert main(["evaluate", "--predictions", str(missing), "--split", "s.parquet",
                     "--out", str(tmp_path / "m.json")]) == 1
    messages = [r.getMessage() for r in caplog.records if r.name == "geneint"]
    assert messages == [str(missing)]
