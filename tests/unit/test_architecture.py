"""The package's structure: imports flow data → graphs → models → train → evaluate → report,
models know nothing of Lightning or files, and no module grows past what a reader can hold."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "geneint"
LAYERS = ["data", "graphs", "models", "train", "evaluate", "report"]
#: Importable from every layer: the config schemas (yaml only).
SHARED = {"geneint.schema"}
#: May import anything: the entry point and the workflow's sweep helpers.
TOP = {"cli", "sweep"}
MAX_LINES = 450


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, path.relative_to(PACKAGE).parts


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "geneint" or len(parts) < 2 or module in SHARED:
        return None
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


@pytest.mark.parametrize("path, parts", list(_modules()), ids=lambda v: "/".join(v)
                         if isinstance(v, tuple) else "")
def test_imports_flow_one_way(path, parts):
    if parts[0] in TOP or parts[0].removesuffix(".py") in TOP or len(parts) == 1:
        return
    own = LAYERS.index(parts[0])
    upstream = sorted(m for m in _imports(path)
                      if (layer := _layer(m)) is not None and layer > own)
    assert not upstream, f"{'/'.join(parts)} ({parts[0]}) imports later stages: {upstream}"


@pytest.mark.parametrize("layer", ["data", "graphs", "models"])
def test_early_stages_do_not_import_lightning_or_the_cli(layer):
    for path in (PACKAGE / layer).rglob("*.py"):
        bad = {m for m in _imports(path)
               if m.split(".")[0] == "lightning" or m.startswith("geneint.cli")}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


def test_models_read_no_files_or_config():
    for path in (PACKAGE / "models").rglob("*.py"):
        bad = {m for m in _imports(path) if m in ("geneint.schema", "geneint.data.files",
                                                  "pandas", "yaml")}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


def test_no_module_is_too_long_to_read():
    long = {str(p.relative_to(PACKAGE)): n for p, _ in _modules()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"split these modules: {long}"
