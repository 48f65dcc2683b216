"""CausalBench's evaluation: hand-computed TP/FP/Wasserstein/FOR on a tiny fixture, the same
numbers as the causalbench package's own evaluator on a larger one, and the biological
precision."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from geneint.evaluate.causal import CONTROL, StatisticalEvaluator, biological_metrics


def _tiny():
    """Genes A, B, C; 6 control cells, 6 with A knocked down, 6 with B knocked down.
    A's knock-down lowers B by 5 (a clear effect); B's knock-down leaves C alone."""
    controls = np.array([[5, 10, 3], [6, 11, 4], [5, 9, 3], [6, 10.5, 4], [5, 12, 3],
                         [6, 9.5, 4]], dtype=float)
    a_down = controls.copy()
    a_down[:, 0] = 0
    a_down[:, 1] -= 5
    b_down = controls.copy()
    b_down[:, 1] = 0
    b_down[:, 2] = [4, 3, 4, 3, 3, 4]
    expression = np.vstack([controls, a_down, b_down])
    labels = [CONTROL] * 6 + ["A"] * 6 + ["B"] * 6
    return StatisticalEvaluator(expression, labels, ["A", "B", "C"]), controls, b_down


def test_true_and_false_positives_and_wasserstein_by_hand():
    evaluator, controls, b_down = _tiny()
    metrics, scored = evaluator.evaluate(["A", "B", "C"], ["B", "C", "A"], omission_samples=0)
    # A → B: B drops by exactly 5 in every A cell: Wasserstein 5, all 6 vs 6 ranks separated
    # (two-sided exact Mann–Whitney p = 2/924 = 0.00216).
    ab = scored.iloc[0]
    assert ab["wasserstein"] == pytest.approx(5.0)
    assert ab["p_value"] == pytest.approx(2 / 924, rel=1e-6) and ab["significant"]
    # B → C: C keeps the control distribution up to order: p = 1, Wasserstein 0.
    bc = scored.iloc[1]
    assert bc["wasserstein"] == pytest.approx(0.0) and not bc["significant"]
    # C → A: C is never knocked down: untestable, counted, not a false positive.
    assert not scored.iloc[2]["testable"]
    assert metrics["true_positives"] == 1 and metrics["false_positives"] == 1
    assert metrics["untestable"] == 1 and metrics["precision"] == 0.5
    assert metrics["mean_wasserstein"] == pytest.approx(2.5)


def test_false_omission_rate_by_hand():
    evaluator, _, _ = _tiny()
    # The network B → C leaves 5 ordered pairs unconnected: A→B (significant), A→C, B→A,
    # C→A, C→B. A→C: C is unchanged in A cells; B→A: A unchanged in B cells; C's pairs are
    # untestable. FOR = 1 significant / 3 testable.
    pairs = evaluator.negative_pairs(["B"], ["C"], size=100)
    assert sorted(pairs) == [("A", "B"), ("A", "C"), ("B", "A"), ("C", "A"), ("C", "B")]
    metrics, _ = evaluator.evaluate(["B"], ["C"], omission_samples=100)
    assert metrics["omission_samples"] == 3
    assert metrics["false_omission_rate"] == pytest.approx(1 / 3)
    assert metrics["negative_mean_wasserstein"] == pytest.approx(
        np.mean([5.0, 0.0, stats.wasserstein_distance(_tiny()[1][:, 0], _tiny()[1][:, 0])]))


def test_paths_count_as_connections_for_the_omission_rate():
    evaluator, _, _ = _tiny()
    # A → B → C connects A to C through B: A→C is no negative.
    pairs = evaluator.negative_pairs(["A", "B"], ["B", "C"], size=100)
    assert ("A", "C") not in pairs and sorted(pairs) == [("B", "A"), ("C", "A"), ("C", "B")]


def _larger(seed=0, genes=15, cells=40):
    rng = np.random.default_rng(seed)
    names = [f"G{i}" for i in range(genes)]
    labels = [CONTROL] * 120 + [g for g in names for _ in range(cells)]
    expression = rng.gamma(2.0, 1.0, size=(len(labels), genes))
    for i, g in enumerate(names):     # each knock-down shifts the next two genes
        rows = np.array(labels) == g
        expression[rows, (i + 1) % genes] += 1.5
        expression[rows, (i + 2) % genes] *= 0.5
    return expression, labels, names


def test_matches_the_causalbench_evaluator():
    pytest.importorskip("causalscbench")
    from causalscbench.evaluation.statistical_evaluation import Evaluator

    expression, labels, names = _larger()
    rng = np.random.default_rng(1)
    edges = list(dict.fromkeys((names[i], names[j]) for i, j in rng.integers(0, 15, (40, 2))
                               if i != j))
    sources, targets = [a for a, _ in edges], [b for _, b in edges]
    ours, _ = StatisticalEvaluator(expression, labels, names).evaluate(sources, targets, 60)
    theirs = Evaluator(expression, labels, names).evaluate_network(
        edges, max_path_length=-1, check_false_omission_rate=True, omission_estimation_size=60)
    assert ours["true_positives"] == theirs["output_graph"]["true_positives"]
    assert ours["false_positives"] == theirs["output_graph"]["false_positives"]
    assert ours["mean_wasserstein"] == pytest.approx(
        theirs["output_graph"]["wasserstein_distance"]["mean"], rel=1e-12)
    assert ours["false_omission_rate"] == pytest.approx(theirs["false_omission_rate"])
    assert ours["negative_mean_wasserstein"] == pytest.approx(
        theirs["negative_mean_wasserstein"], rel=1e-12)


def test_biological_precision_directed_undirected_and_causalbenchs_count():
    truth = {("A", "B"), ("B", "C"), ("C", "D"), ("X", "A")}      # X is not in the data
    predicted = [("A", "B"), ("C", "B"), ("A", "D"), ("D", "C")]
    metrics = biological_metrics([a for a, _ in predicted], [b for _, b in predicted], truth,
                                 ["A", "B", "C", "D"])
    assert metrics["known_edges"] == 3
    assert metrics["precision_directed"] == 1 / 4          # A→B
    assert metrics["precision_undirected"] == 3 / 4        # A–B, C–B, D–C
    assert metrics["recall_directed"] == 1 / 3
    causalbench = pytest.importorskip("causalscbench.evaluation.biological_evaluation")
    theirs = causalbench.Evaluator(truth).evaluate_network(predicted)
    assert metrics["causalbench_true_positives"] == theirs["true_positives"]
