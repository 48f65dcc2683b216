"""What a trained DCell's terms say: per-term outputs on the test sets and RLIPP term importance.

RLIPP (relative local improvement in predictive power, Ma et al. 2018): for each term, an
L2-regularised linear model predicts τ from the term's own neurons, and another from the term's
*inputs* — its children's neurons and its direct genes' perturbation states. Both are fitted on
the training sets (the penalty by scikit-learn's efficient leave-one-out ``RidgeCV``) and scored
by Pearson on the test sets; ``rlipp = (ρ_term − ρ_inputs) / |ρ_inputs|``. A positive value
means the term's processing adds information its inputs did not carry linearly. (The paper
compares with the children's neurons only; a leaf has none, so the term's full input is used
for every term — the same comparison wherever both exist, and defined for leaves.)

Outputs: ``term_importance.tsv`` (one row per term) and ``term_activations.npz`` (``set_id``,
``terms``, ``outputs``: every term's head on every test set, on the published τ scale).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch
from scipy import sparse
from scipy.stats import pearsonr
from sklearn.linear_model import RidgeCV

from geneint.data.files import PathLike, atomic_output
from geneint.data.ontology import Ontology
from geneint.train.sets import SetTensors

log = logging.getLogger(__name__)

ALPHAS = np.logspace(-2, 4, 7)


@torch.no_grad()
def neurons_and_outputs(module, sets: SetTensors, batch_size: int = 4096,
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Every neuron and every term's head (published scale) of a trained DCell module."""
    module.eval()
    neurons, outputs = [], []
    for start in range(0, len(sets.tau), batch_size):
        genes = sets.genes[start:start + batch_size]
        mask = sets.mask[start:start + batch_size]
        heads, chunks = module.model.run(genes, mask)
        heads = heads.t()
        arity = mask.sum(-1, keepdim=True).expand_as(heads)
        outputs.append(module.published_scale(heads, arity).numpy())
        neurons.append(module.model.flatten(chunks).numpy())
    return np.concatenate(neurons), np.concatenate(outputs)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(pearsonr(x, y).statistic)


def _ridge_pearson(fit_x: np.ndarray, fit_y: np.ndarray, test_x: np.ndarray,
                   test_y: np.ndarray) -> float:
    if fit_x.shape[1] == 0:
        return float("nan")
    model = RidgeCV(alphas=ALPHAS).fit(fit_x, fit_y)
    return _pearson(model.predict(test_x), test_y)


def perturbations(sets: SetTensors, num_genes: int) -> sparse.csr_matrix:
    """(n, G) 0/1 sparse: which genes each set perturbs."""
    rows = torch.arange(len(sets.tau)).unsqueeze(1).expand_as(sets.genes)[sets.mask].numpy()
    cols = sets.genes[sets.mask].numpy()
    return sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                             shape=(len(sets.tau), num_genes))


def term_importance(module, ontology: Ontology, gene_names: list[str], fit: SetTensors,
                    test: SetTensors, max_fit_sets: int = 20_000, seed: int = 0,
                    ) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per term (RLIPP and its parts, sizes) and the test sets' per-term outputs."""
    if len(fit.tau) > max_fit_sets:  # ridge cost grows with sets; a sample estimates as well
        keep = torch.from_numpy(np.sort(np.random.default_rng(seed).choice(
            len(fit.tau), max_fit_sets, replace=False)))
        fit = SetTensors(fit.genes[keep], fit.mask[keep], fit.tau[keep], fit.set_id[keep])
    fit_h, _ = neurons_and_outputs(module, fit)
    test_h, test_out = neurons_and_outputs(module, test)
    model = module.model
    index = {t: i for i, t in enumerate(ontology.terms)}
    row_of = {g: i for i, g in enumerate(gene_names)}
    fit_y, test_y = fit.tau.numpy(), test.tau.numpy()
    fit_states = perturbations(fit, len(gene_names))
    test_states = perturbations(test, len(gene_names))
    rows = []
    for t, term in enumerate(ontology.terms):
        own = model.term_slice(t)
        kids = [model.term_slice(index[c]) for c in ontology.children[term]]
        direct = [row_of[g] for g in ontology.genes[term]]

        def inputs(h: np.ndarray, states: sparse.csr_matrix, kids=kids,
                   direct=direct) -> np.ndarray:
            return np.concatenate([h[:, k] for k in kids] + [states[:, direct].toarray()],
                                  axis=1)

        rho_term = _ridge_pearson(fit_h[:, own], fit_y, test_h[:, own], test_y)
        rho_inputs = _ridge_pearson(inputs(fit_h, fit_states), fit_y,
                                    inputs(test_h, test_states), test_y)
        rows.append({
            "term": term, "name": ontology.names.get(term, ""),
            "stratum": ontology.height[term], "genes": len(ontology.gene_sets[term]),
            "direct_genes": len(direct), "children": len(kids), "neurons": model.widths[t],
            "pearson_term": rho_term, "pearson_inputs": rho_inputs,
            "rlipp": (rho_term - rho_inputs) / abs(rho_inputs) if rho_inputs else float("nan"),
            "pearson_head": _pearson(test_out[:, t], test_y),
        })
    table = pd.DataFrame(rows).sort_values("rlipp", ascending=False, na_position="last")
    return table, test_out


def write_interpretation(table: pd.DataFrame, outputs: np.ndarray, test: SetTensors,
                         terms: list[str], importance_path: PathLike,
                         activations_path: PathLike) -> None:
    with atomic_output(importance_path) as tmp:
        table.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
    with atomic_output(activations_path) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, set_id=test.set_id.numpy(), terms=np.array(terms),
                            outputs=outputs.astype(np.float32))


def interpret_dcell(checkpoint: PathLike, ontology_path: PathLike, interactions: PathLike,
                    genes: PathLike, split: PathLike, fold: int, importance_path: PathLike,
                    activations_path: PathLike, max_fit_sets: int = 20_000) -> pd.DataFrame:
    """RLIPP and per-term test outputs of a trained DCell (its ``best.ckpt``), on the sets of
    the split fold it was trained on."""
    from geneint.data.ontology import read_ontology
    from geneint.train.data import InteractionDataModule
    from geneint.train.dcell import load_trained_dcell

    module = load_trained_dcell(checkpoint)
    ontology = read_ontology(ontology_path)
    data = InteractionDataModule(interactions, genes, split, fold)
    data.setup("fit")
    if len(module.model.widths) != len(ontology):
        raise ValueError(f"{checkpoint} was trained on an ontology of "
                         f"{len(module.model.widths)} terms; {ontology_path} has {len(ontology)}")
    table, outputs = term_importance(module, ontology, data.gene_names, data.sets["train"],
                                     data.sets["test"], max_fit_sets=max_fit_sets)
    write_interpretation(table, outputs, data.sets["test"], list(ontology.terms),
                         importance_path, activations_path)
    top = table.dropna(subset=["rlipp"]).head(5)
    log.info("terms of highest RLIPP: %s", ", ".join(
        f"{r.term} {r.rlipp:+.2f}" for r in top.itertuples()))
    return table
