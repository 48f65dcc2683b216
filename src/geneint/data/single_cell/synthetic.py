"""A synthetic Perturb-seq experiment with a known causal graph: the perturbation demo's data.

Genes sit in a topological order (named in a random one); each gene takes its parents among the
genes before it (``parents`` on average), with signed weights. A cell's log-expression follows
the non-linear structural equations

    z_j = b_j + Σ_{i → j} w_ij · tanh(z_i − b_i) + ε_j,    ε_j ~ N(0, noise²),

evaluated in topological order, and a CRISPRi knock-down of gene g multiplies g's expression by
``knockdown`` (z_g += log knockdown) before its children read it, so the effect travels down
the graph. UMI counts are Poisson around the cell's expression scaled to its library size. The
file has the Replogle 2022 layout (``.obs`` gene / gene_id / UMI_count, ``.var`` gene_name), so
it goes through the same reader and preprocessing as the real data; the true graph is written
beside it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from geneint.data.single_cell.anndata_io import CONTROL, anndata_module


@dataclass(frozen=True)
class SyntheticSettings:
    seed: int = 0
    genes: int = 40
    parents: float = 1.5
    control_cells: int = 1000
    cells_per_perturbation: int = 100
    knockdown: float = 0.1
    noise: float = 0.3
    library_size: float = 2000.0


@dataclass(frozen=True)
class CausalGraph:
    """Genes in topological order and the weighted edges ``weights[i, j]`` of i → j."""

    names: list[str]
    weights: np.ndarray
    baseline: np.ndarray

    def edges(self) -> pd.DataFrame:
        sources, targets = np.nonzero(self.weights)
        return pd.DataFrame({"source": [self.names[i] for i in sources],
                             "target": [self.names[j] for j in targets],
                             "weight": self.weights[sources, targets]})


def random_dag(settings: SyntheticSettings, rng: np.random.Generator) -> CausalGraph:
    n = settings.genes
    weights = np.zeros((n, n))
    for j in range(1, n):
        chosen = rng.random(j) < min(1.0, settings.parents / j)
        signs = rng.choice([-1.0, 1.0], size=int(chosen.sum()))
        weights[np.nonzero(chosen)[0], j] = signs * rng.uniform(0.8, 1.5, size=len(signs))
    # Log-expression around 0.5–5 UMIs per 1,000 before the library-size scaling.
    baseline = rng.uniform(np.log(0.5), np.log(5.0), size=n)
    # Names in a random order: neither gene order nor name order gives the causal order away.
    names = [f"SG{i + 1:03d}" for i in rng.permutation(n)]
    return CausalGraph(names, weights, baseline)


def simulate_log_expression(graph: CausalGraph, knocked_down: np.ndarray, knockdown: float,
                            noise: float, rng: np.random.Generator,
                            shift: np.ndarray | None = None) -> np.ndarray:
    """Log-expression of cells (rows). ``knocked_down[c]`` is the gene index knocked down in
    cell c (−1 for a control), or a row of indices for a multiple knock-down (−1 padding).
    ``shift`` (cells × genes) is added to each gene's own term, before its children read it."""
    targets = knocked_down.reshape(len(knocked_down), -1)
    cells, n = len(targets), len(graph.names)
    z = np.empty((cells, n))
    epsilon = rng.normal(0.0, noise, size=(cells, n))
    if shift is not None:
        epsilon += shift
    for j in range(n):
        parents = np.nonzero(graph.weights[:, j])[0]
        drive = np.tanh(z[:, parents] - graph.baseline[parents]) @ graph.weights[parents, j]
        z[:, j] = graph.baseline[j] + drive + epsilon[:, j]
        z[(targets == j).any(axis=1), j] += np.log(knockdown)
    return z


def poisson_counts(z: np.ndarray, library_size: float, rng: np.random.Generator) -> np.ndarray:
    """UMI counts: Poisson around each cell's expression scaled to a log-normal library size."""
    expression = np.exp(z)
    size = rng.lognormal(0.0, 0.25, size=len(z)) * library_size
    return rng.poisson(expression / expression.sum(1, keepdims=True) * size[:, None])


def synthesize(settings: SyntheticSettings):
    """(raw AnnData in the Replogle layout, the true graph's edges)."""
    rng = np.random.default_rng(settings.seed)
    graph = random_dag(settings, rng)
    knocked_down = np.concatenate([
        np.full(settings.control_cells, -1),
        np.repeat(np.arange(settings.genes), settings.cells_per_perturbation),
    ])
    rng.shuffle(knocked_down)
    z = simulate_log_expression(graph, knocked_down, settings.knockdown, settings.noise, rng)
    counts = poisson_counts(z, settings.library_size, rng)

    names = np.array(graph.names)
    ids = np.array([f"ENSSYN{i + 1:011d}" for i in range(settings.genes)])
    gene = np.where(knocked_down < 0, CONTROL, names[knocked_down])
    gene_id = np.where(knocked_down < 0, CONTROL, ids[knocked_down])
    # Columns by name, as a real file lists genes: not in the causal order.
    columns = np.argsort(names)
    obs = pd.DataFrame({"gene": pd.Categorical(gene), "gene_id": pd.Categorical(gene_id),
                        "UMI_count": counts.sum(1).astype(np.float32)},
                       index=[f"cell{i:06d}" for i in range(len(knocked_down))])
    var = pd.DataFrame({"gene_name": names[columns]},
                       index=pd.Index(ids[columns], name="gene_id"))
    adata = anndata_module().AnnData(X=counts[:, columns].astype(np.float32), obs=obs, var=var)
    adata.uns["synthetic"] = asdict(settings)
    return adata, graph.edges()
