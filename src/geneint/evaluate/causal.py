"""CausalBench's evaluation of a predicted gene network (Chevalley et al. 2022).

Statistical, on the held-out cells: an edge A → B is a true positive when B's expression in the
cells with A knocked down differs from B's in the control cells (two-sided Mann–Whitney U,
p < ``p_value``), and its effect size is the Wasserstein-1 distance between the two samples.
The false omission rate is the fraction of significant pairs among ``omission_samples`` gene
pairs the network leaves unconnected (no directed path), drawn as CausalBench draws them
(Python's ``random`` seeded with 0, rejection sampling), or all of them when there are fewer.

Biological: precision against a set of known directed edges (a true graph, the Krumsiek rules,
ChIP-seq), directed and undirected, and CausalBench's own count (its undirected default: both
directions of each predicted edge are looked up and the hits halved).

Edges whose source has no knock-down cells in the test split cannot be tested; they are counted
(``untestable``) and left out of TP/FP and the mean Wasserstein, never silently.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import networkx as nx
import numpy as np
import pandas as pd
from scipy import stats

from geneint.data.single_cell.anndata_io import CONTROL


class StatisticalEvaluator:
    """The held-out cells: expression [cells × genes], each cell's knock-down, gene names."""

    def __init__(self, expression: np.ndarray, interventions: Sequence[str],
                 genes: Sequence[str], p_value: float = 0.05) -> None:
        self.expression = np.asarray(expression)
        self.genes = list(genes)
        self.column = {g: i for i, g in enumerate(self.genes)}
        self.p_value = p_value
        labels = pd.Series(np.asarray(interventions).astype(str))
        self.cells = {label: index.to_numpy() for label, index in labels.groupby(labels).groups
                      .items()}
        if CONTROL not in self.cells:
            raise ValueError("the test cells hold no non-targeting controls")

    def score_edges(self, sources: Sequence[str], targets: Sequence[str]) -> pd.DataFrame:
        """One row per edge: testable, p_value, wasserstein, significant."""
        frame = pd.DataFrame({"source": list(sources), "target": list(targets)})
        frame["testable"] = frame["source"].isin(self.cells) & frame["target"].isin(self.column)
        frame["p_value"] = np.nan
        frame["wasserstein"] = np.nan
        controls = self.expression[self.cells[CONTROL]]
        for source, rows in frame[frame["testable"]].groupby("source").groups.items():
            columns = [self.column[t] for t in frame.loc[rows, "target"]]
            observational = controls[:, columns]
            interventional = self.expression[self.cells[source]][:, columns]
            frame.loc[rows, "p_value"] = np.atleast_1d(
                stats.mannwhitneyu(observational, interventional, axis=0).pvalue)
            frame.loc[rows, "wasserstein"] = [
                stats.wasserstein_distance(observational[:, k], interventional[:, k])
                for k in range(len(columns))]
        frame["significant"] = frame["testable"] & (frame["p_value"] < self.p_value)
        return frame

    def negative_pairs(self, sources: Sequence[str], targets: Sequence[str], size: int,
                       seed: int = 0) -> list[tuple[str, str]]:
        """``size`` ordered gene pairs with no directed path in the network."""
        graph = nx.DiGraph(zip(sources, targets))
        reachable = {node: nx.descendants(graph, node) for node in graph}
        n = len(self.genes)
        available = n * (n - 1) - sum(len(r - {node}) for node, r in reachable.items())
        if available <= size:
            return [(a, b) for a in self.genes for b in self.genes
                    if a != b and b not in reachable.get(a, ())]
        rng = random.Random(seed)
        pairs: dict[tuple[str, str], None] = {}
        while len(pairs) < size:
            i, j = rng.sample(range(n), 2)
            a, b = self.genes[i], self.genes[j]
            if b not in reachable.get(a, ()):
                pairs[(a, b)] = None
        return list(pairs)

    def evaluate(self, sources: Sequence[str], targets: Sequence[str],
                 omission_samples: int = 500) -> tuple[dict, pd.DataFrame]:
        scored = self.score_edges(sources, targets)
        tested = scored[scored["testable"]]
        tp = int(tested["significant"].sum())
        metrics = {
            "edges": len(scored), "untestable": int((~scored["testable"]).sum()),
            "true_positives": tp, "false_positives": len(tested) - tp,
            "precision": tp / len(tested) if len(tested) else float("nan"),
            "mean_wasserstein": float(tested["wasserstein"].mean()) if len(tested)
            else float("nan"),
            "false_omission_rate": float("nan"), "negative_mean_wasserstein": float("nan"),
            "omission_samples": 0,
        }
        if omission_samples > 0:
            negatives = self.negative_pairs(sources, targets, omission_samples)
            scored_negatives = self.score_edges([a for a, _ in negatives],
                                                [b for _, b in negatives])
            testable = scored_negatives[scored_negatives["testable"]]
            if len(testable):
                metrics.update(
                    false_omission_rate=float(testable["significant"].mean()),
                    negative_mean_wasserstein=float(testable["wasserstein"].mean()),
                    omission_samples=len(testable))
        return metrics, scored


def biological_metrics(sources: Sequence[str], targets: Sequence[str],
                       truth: set[tuple[str, str]], genes: Sequence[str]) -> dict:
    """Precision (directed, undirected) and recall against known edges among ``genes``."""
    present = set(genes)
    known = {(a, b) for a, b in truth if a in present and b in present and a != b}
    unordered = {frozenset(edge) for edge in known}
    predicted = list(zip(sources, targets))
    hits = sum(edge in known for edge in predicted)
    undirected_hits = sum(frozenset(edge) in unordered for edge in predicted)
    both_ways = set(predicted) | {(b, a) for a, b in predicted}
    n = len(predicted)
    return {
        "known_edges": len(known),
        "precision_directed": hits / n if n else float("nan"),
        "precision_undirected": undirected_hits / n if n else float("nan"),
        "recall_directed": hits / len(known) if known else float("nan"),
        "causalbench_true_positives": sum(edge in known for edge in both_ways) / 2,
    }
