"""The genome-scale metabolic model (Yeast-GEM) as typed relations for the metabolism graph.

:func:`load_gem` reads SBML, YAML or JSON; :func:`gem_relations` turns the model into three
tables; :func:`write_metabolism` writes them beside ``model.json`` (the model again, for FBA);
:func:`read_metabolism` reads them back.

==========================  ===================================================================
file                        columns
==========================  ===================================================================
``gene_reaction.parquet``   ``gene``, ``reaction`` (str), ``gpr_group`` (int32): the index of
                            the AND-clause of the reaction's GPR in disjunctive normal form.
                            Isozymes sit in different groups, subunits of a complex in the
                            same one; a gene in several complexes has one row per group.
``reaction_metabolite``     ``reaction``, ``metabolite``, ``compartment`` (str),
``.parquet``                ``coefficient`` (float64, signed: < 0 consumed, > 0 produced)
``gene_pairs.parquet``      ``gene_a < gene_b``, ``network`` (``"metabolism"``), ``weight``
                            (float32, 1.0), ``directed`` (bool, False)
``model.json``              the cobra model (cobra JSON)
==========================  ===================================================================
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Collection
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geneint.data.files import (
    InputFormatError,
    PathLike,
    QCReport,
    atomic_output,
    require_columns,
    write_parquet_atomic,
)

if TYPE_CHECKING:
    import cobra

log = logging.getLogger(__name__)

GENE_REACTION_FILE = "gene_reaction.parquet"
REACTION_METABOLITE_FILE = "reaction_metabolite.parquet"
GENE_PAIRS_FILE = "gene_pairs.parquet"
#: cobra JSON of the model. Loading it takes 2.4 s for Yeast-GEM 9.0.2 here, against 42 s for
#: the published YAML (``load_yaml_model``), so FBA jobs read this copy.
MODEL_FILE = "model.json"
NETWORK = "metabolism"
GENE_REACTION_COLUMNS = ["gene", "reaction", "gpr_group"]
REACTION_METABOLITE_COLUMNS = ["reaction", "metabolite", "coefficient", "compartment"]
GENE_PAIR_COLUMNS = ["gene_a", "gene_b", "network", "weight", "directed"]
_READERS = {".yml": "yaml", ".yaml": "yaml", ".xml": "sbml", ".sbml": "sbml", ".json": "json"}


def import_cobra():
    """cobrapy, imported when a model is read or written (the tables alone do not need it)."""
    try:
        import cobra
    except ImportError:
        raise ImportError("reading a metabolic model needs cobrapy: bash scripts/bootstrap.sh "
                          "installs it (pip install --no-deps cobra==0.32.1, then its "
                          "dependencies; README \"Quick start\")") from None
    return cobra


@dataclass
class MetabolismTables:
    gene_reaction: pd.DataFrame
    reaction_metabolite: pd.DataFrame
    gene_pairs: pd.DataFrame


def load_gem(path: PathLike) -> cobra.Model:
    """Read a cobra model by suffix: ``.yml``/``.yaml``, ``.xml``/``.sbml`` (also ``.gz``),
    ``.json``. A file cobra cannot read raises :class:`InputFormatError` naming it."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    suffixes = path.suffixes[-2:] if path.suffix == ".gz" else path.suffixes[-1:]
    kind = _READERS.get(suffixes[0].lower() if suffixes else "")
    if kind is None or (path.suffix == ".gz" and kind != "sbml"):
        raise InputFormatError(path, 0, "unknown model format; expected .yml/.yaml (cobra "
                                        "YAML), .xml/.sbml[.gz] (SBML) or .json (cobra JSON)")
    cobra = import_cobra()
    try:
        if kind == "yaml":
            model = cobra.io.load_yaml_model(str(path))
        elif kind == "sbml":
            model = cobra.io.read_sbml_model(str(path))
        else:
            model = cobra.io.load_json_model(str(path))
    except Exception as exc:  # cobra raises anything from KeyError to CobraSBMLError
        raise InputFormatError(path, 0, f"cannot read as a {kind} metabolic model: "
                                        f"{type(exc).__name__}: {exc}") from exc
    if not len(model.reactions):
        raise InputFormatError(path, 0, f"{kind} model without reactions")
    return model


def gpr_clauses(gpr: cobra.core.GPR) -> list[list[str]]:
    """The GPR in disjunctive normal form: one gene list per AND-clause (isozyme/complex), in
    order of first appearance, duplicates removed; ``[]`` for a reaction without GPR."""
    def dnf(node: ast.AST) -> list[tuple[str, ...]]:
        if isinstance(node, ast.Name):
            return [(node.id,)]
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            return [c for v in node.values for c in dnf(v)]
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            clauses: list[tuple[str, ...]] = [()]
            for v in node.values:
                clauses = [a + b for a in clauses for b in dnf(v)]
            return clauses
        raise ValueError(f"unexpected GPR node {ast.dump(node)}")

    if gpr.body is None:
        return []
    return [list(c) for c in dict.fromkeys(tuple(dict.fromkeys(c)) for c in dnf(gpr.body))]


def gem_relations(model: cobra.Model, genes: Collection[str] | None, qc: QCReport
                  ) -> MetabolismTables:
    """Gene–reaction and reaction–metabolite relations of ``model``, and the gene–gene
    projection (genes that share a reaction, whatever their GPR group).

    Only reactions link genes: currency metabolites (ATP, H2O, H+, NADH…) take part in
    hundreds of reactions and would link nearly every gene pair, so the projection does not go
    through shared metabolites. Genes absent from ``genes`` (the gene index; ``None`` keeps all)
    are dropped from the tables and counted in ``qc``.
    """
    index = None if genes is None else set(genes)
    gene_rows, met_rows, missing = [], [], {}
    boundary = {r.id for r in model.boundary}
    for rxn in model.reactions:
        clauses = gpr_clauses(rxn.gpr)
        if not clauses:
            qc.count("reactions_without_gpr", example=rxn.id)
        for k, clause in enumerate(clauses):
            for gene in clause:
                if index is not None and gene not in index:
                    missing.setdefault(gene, rxn.id)
                    continue
                gene_rows.append((gene, rxn.id, k))
        for met, coef in sorted(rxn.metabolites.items(), key=lambda mc: mc[0].id):
            met_rows.append((rxn.id, met.id, float(coef), met.compartment or ""))
    for rid in sorted(boundary):
        qc.count("boundary_reactions", example=rid)
    qc.count("exchange_reactions", len(model.exchanges),
             example=model.exchanges[0].id if model.exchanges else None)
    for gene, rid in sorted(missing.items()):
        qc.count("gpr_genes_not_in_gene_index", example=f"{gene} ({rid})")
    gene_reaction = pd.DataFrame(gene_rows, columns=GENE_REACTION_COLUMNS).astype(
        {"gene": str, "reaction": str, "gpr_group": np.int32})
    reaction_metabolite = pd.DataFrame(met_rows, columns=["reaction", "metabolite",
                                                          "coefficient", "compartment"])
    reaction_metabolite = reaction_metabolite[REACTION_METABOLITE_COLUMNS].astype(
        {"reaction": str, "metabolite": str, "coefficient": np.float64, "compartment": str})
    gene_pairs = project_genes(gene_reaction)
    compartments = pd.Series([m.compartment or "" for m in model.metabolites]).value_counts()
    qc.count("reactions", len(model.reactions))
    qc.count("metabolites", len(model.metabolites))
    qc.count("model_genes", len(model.genes))
    qc.count("genes_kept", gene_reaction["gene"].nunique())
    qc.count("gene_reaction_rows", len(gene_reaction))
    qc.count("gene_pairs", len(gene_pairs))
    qc.info["metabolites_per_compartment"] = {k: int(v) for k, v in
                                              sorted(compartments.items())}
    qc.info["reactions_per_compartment"] = _reactions_per_compartment(model)
    if missing:
        log.warning("%d GPR genes are not in the gene index (e.g. %s); dropped", len(missing),
                    next(iter(sorted(missing))))
    return MetabolismTables(gene_reaction, reaction_metabolite, gene_pairs)


def _reactions_per_compartment(model: cobra.Model) -> dict[str, int]:
    """Reactions by the compartments of their metabolites (``c+m`` = a transport)."""
    counts = pd.Series(["+".join(sorted(r.compartments)) for r in model.reactions])
    return {k: int(v) for k, v in sorted(counts.value_counts().items())}


def project_genes(gene_reaction: pd.DataFrame) -> pd.DataFrame:
    """Undirected gene pairs that share at least one reaction (the canonical network form)."""
    pairs = set()
    for genes in gene_reaction.groupby("reaction", sort=False)["gene"].unique():
        pairs.update(combinations(sorted(genes), 2))
    frame = pd.DataFrame(sorted(pairs), columns=["gene_a", "gene_b"], dtype=str)
    frame["network"] = NETWORK
    frame["weight"] = np.ones(len(frame), dtype=np.float32)
    frame["directed"] = False
    return frame


def write_metabolism(tables: MetabolismTables, model: cobra.Model, out_dir: PathLike) -> None:
    """Write the three tables and ``model.json`` into ``out_dir`` (each file atomically)."""
    out_dir = Path(out_dir)
    write_parquet_atomic(tables.gene_reaction[GENE_REACTION_COLUMNS],
                         out_dir / GENE_REACTION_FILE)
    write_parquet_atomic(tables.reaction_metabolite[REACTION_METABOLITE_COLUMNS],
                         out_dir / REACTION_METABOLITE_FILE)
    write_parquet_atomic(tables.gene_pairs[GENE_PAIR_COLUMNS], out_dir / GENE_PAIRS_FILE)
    with atomic_output(out_dir / MODEL_FILE) as tmp:
        import_cobra().io.save_json_model(model, str(tmp))


def read_metabolism(out_dir: PathLike) -> MetabolismTables:
    """Read the tables written by :func:`write_metabolism` (checking their columns)."""
    out_dir = Path(out_dir)
    frames = []
    for name, columns in ((GENE_REACTION_FILE, GENE_REACTION_COLUMNS),
                          (REACTION_METABOLITE_FILE, REACTION_METABOLITE_COLUMNS),
                          (GENE_PAIRS_FILE, GENE_PAIR_COLUMNS)):
        frame = pd.read_parquet(out_dir / name)
        require_columns(frame, columns, out_dir / name)
        frames.append(frame)
    pairs = frames[2]
    if len(pairs) and not (pairs["gene_a"] < pairs["gene_b"]).all():
        raise InputFormatError(out_dir / GENE_PAIRS_FILE, 0, "pairs must have gene_a < gene_b")
    return MetabolismTables(*frames)


def read_metabolism_model(out_dir: PathLike) -> cobra.Model:
    """The model saved beside the tables (``model.json``)."""
    return load_gem(Path(out_dir) / MODEL_FILE)
