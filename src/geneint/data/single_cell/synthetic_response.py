"""Synthetic data for perturbation-response prediction: the network demo's causal graph (same
seed, same genes), knocked down one gene at a time and in pairs, written in GEARS' processed
layout (``perturb_processed.h5ad``: log-normalised ``X``, ``.obs['condition']`` ``ctrl`` /
``A+ctrl`` / ``A+B``, ``.var['gene_name']``). Every perturbed cell also carries a shared
response (a fixed shift of a random third of the genes, ``shared_response`` its scale): the
common component of real screens that makes the training-mean baseline hard to beat.

Beside it, the inputs GRAPE takes on real data, made from the same graph so that they carry
what precomputed gene embeddings carry in life, a noisy view of each gene's function:

- ``description.tsv`` and ``sequence.tsv``: two random projections of each gene's
  neighbourhood in the graph (its signed edges either way, and itself) plus Gaussian noise
  (``feature_noise`` × the signal's standard deviation);
- ``biotypes.tsv``: a random ``noncoding_fraction`` of genes labelled ``lncRNA``, the rest
  ``protein_coding`` (a label only: the structural equations treat both alike).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geneint.data.files import atomic_output, write_text_atomic
from geneint.data.single_cell.gears_format import CELL_TYPE, CONDITION, condition_label
from geneint.data.single_cell.synthetic import (
    CausalGraph,
    SyntheticSettings,
    poisson_counts,
    random_dag,
    simulate_log_expression,
)


@dataclass(frozen=True)
class ResponseSyntheticSettings:
    double_perturbations: int = 60
    noncoding_fraction: float = 0.25
    feature_dim: int = 32
    feature_noise: float = 0.5
    shared_response: float = 0.5


@dataclass(frozen=True)
class SyntheticResponse:
    adata: object
    edges: pd.DataFrame
    features: dict[str, pd.DataFrame]
    biotypes: pd.DataFrame


def gene_pairs(n_genes: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct unordered gene pairs (all of them when fewer exist)."""
    upper = np.stack(np.triu_indices(n_genes, k=1), axis=1)
    count = min(count, len(upper))
    return upper[np.sort(rng.choice(len(upper), size=count, replace=False))]


def role_features(graph: CausalGraph, dim: int, noise: float, rng: np.random.Generator
                  ) -> np.ndarray:
    """A noisy random projection of each gene's neighbourhood (its signed edges either way,
    and itself): genes that regulate one another get similar vectors, as genes of one pathway
    get similar descriptions."""
    role = graph.weights + graph.weights.T + np.eye(len(graph.names))
    signal = role @ rng.normal(0.0, 1.0 / np.sqrt(dim), size=(role.shape[1], dim))
    return signal + rng.normal(0.0, noise * signal.std(), size=signal.shape)


def synthesize_response(graph_settings: SyntheticSettings,
                        settings: ResponseSyntheticSettings = ResponseSyntheticSettings()
                        ) -> SyntheticResponse:
    rng = np.random.default_rng(graph_settings.seed)
    graph = random_dag(graph_settings, rng)   # drawn first: the network demo's graph
    n = graph_settings.genes
    pairs = gene_pairs(n, settings.double_perturbations, rng)
    perturbations = np.vstack([np.full((1, 2), -1),
                               np.column_stack([np.arange(n), np.full(n, -1)]), pairs])
    cells_of = np.concatenate([[graph_settings.control_cells],
                               np.full(len(perturbations) - 1,
                                       graph_settings.cells_per_perturbation)])
    knocked_down = np.repeat(perturbations, cells_of, axis=0)
    knocked_down = knocked_down[rng.permutation(len(knocked_down))]
    # A response every perturbation shares (a stress programme, say): a fixed shift of a
    # random third of the genes in every perturbed cell. It is what a mean baseline captures.
    programme = rng.normal(0.0, settings.shared_response, size=n) * (rng.random(n) < 1 / 3)
    shift = np.outer((knocked_down >= 0).any(axis=1), programme)
    z = simulate_log_expression(graph, knocked_down, graph_settings.knockdown,
                                graph_settings.noise, rng, shift)
    counts = poisson_counts(z, graph_settings.library_size, rng)

    names = np.array(graph.names)
    labels = [condition_label([names[g] for g in row if g >= 0]) for row in knocked_down]
    columns = np.argsort(names)   # genes listed by name, as a real file lists them
    ids = np.array([f"ENSSYN{i + 1:011d}" for i in range(n)])
    obs = pd.DataFrame({CONDITION: pd.Categorical(labels),
                        CELL_TYPE: pd.Categorical(["synthetic"] * len(labels))},
                       index=[f"cell{i:06d}" for i in range(len(labels))])
    var = pd.DataFrame({"gene_name": names[columns]}, index=pd.Index(ids[columns]))
    from geneint.data.single_cell.anndata_io import anndata_module

    adata = anndata_module().AnnData(X=counts[:, columns].astype(np.float64), obs=obs, var=var)
    # Median library-size scaling and log1p (the network task's preprocessing), as GEARS'
    # processed files were made.
    import scanpy as sc

    sc.pp.normalize_total(adata)
    sc.pp.log1p(adata)
    adata.X = adata.X.astype(np.float32)
    adata.uns["synthetic"] = {**asdict(graph_settings), **asdict(settings)}

    features = {}
    for view in ("description", "sequence"):
        values = role_features(graph, settings.feature_dim, settings.feature_noise, rng)
        features[view] = pd.DataFrame(values[columns], index=pd.Index(names[columns],
                                                                      name="gene_name"))
    noncoding = rng.random(n) < settings.noncoding_fraction
    biotypes = pd.DataFrame({"gene_name": names[columns],
                             "biotype": np.where(noncoding[columns], "lncRNA",
                                                 "protein_coding")})
    return SyntheticResponse(adata, graph.edges(), features, biotypes)


def write_synthetic_response(graph_settings: SyntheticSettings,
                             settings: ResponseSyntheticSettings, out: Path) -> None:
    """``perturb_processed.h5ad``, ``true_graph.tsv``, ``description.tsv``, ``sequence.tsv``
    and ``biotypes.tsv`` in ``out``."""
    from geneint.data.single_cell.ground_truth import write_edge_table

    data = synthesize_response(graph_settings, settings)
    with atomic_output(out / "perturb_processed.h5ad") as tmp:
        data.adata.write_h5ad(tmp)
    write_edge_table(data.edges, out / "true_graph.tsv")
    for view, table in data.features.items():
        write_text_atomic(out / f"{view}.tsv", table.to_csv(sep="\t"))
    write_text_atomic(out / "biotypes.tsv", data.biotypes.to_csv(sep="\t", index=False))
