"""Evaluate a trained model: predictions with gene names, and ``metrics.json``.

``metrics.json`` holds one block per evaluated role (``test``, ``val``) with every metric of
:func:`~geneint.evaluate.metrics.regression_metrics`, including ``oracle_pearson`` when the data
carry noise-free τ (the synthetic demo).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from geneint.data.io import PathLike, write_parquet_atomic, write_text_atomic
from geneint.evaluate.metrics import DEFAULT_STRONG_THRESHOLD, regression_metrics
from geneint.train.data import InteractionDataModule, load_graphs
from geneint.train.modules import JointDango

log = logging.getLogger(__name__)


@torch.no_grad()
def predict_role(module: JointDango, data: InteractionDataModule, role: str,
                 batch_size: int = 4096) -> pd.DataFrame:
    """Predictions for every set of a role, with gene names, τ and (if known) noise-free τ."""
    sets = data.sets[role]
    module.eval()
    meta, _ = module.model.embed(module.edge_indices())
    pred = torch.cat([
        module.predict_sets(sets.genes[start:start + batch_size],
                            sets.mask[start:start + batch_size], meta)
        for start in range(0, len(sets.tau), batch_size)
    ])
    rows = data.frame.iloc[sets.set_id.numpy()]
    out = pd.DataFrame({
        "set_id": sets.set_id.numpy(), "gene_a": rows["gene_a"].to_numpy(),
        "gene_b": rows["gene_b"].to_numpy(), "gene_c": rows["gene_c"].to_numpy(),
        "arity": rows["arity"].to_numpy(), "role": role, "tau": sets.tau.numpy(),
        "tau_pred": pred.numpy(),
    })
    if sets.tau_noise_free is not None:
        out["tau_noise_free"] = sets.tau_noise_free.numpy()
    return out


def metrics_for(predictions: pd.DataFrame, strong_threshold: float) -> dict[str, float]:
    noise_free = (torch.as_tensor(predictions["tau_noise_free"].to_numpy())
                  if "tau_noise_free" in predictions else None)
    return regression_metrics(torch.as_tensor(predictions["tau_pred"].to_numpy()),
                              torch.as_tensor(predictions["tau"].to_numpy()),
                              strong_threshold=strong_threshold, noise_free=noise_free)


def evaluate_checkpoint(checkpoint: PathLike, interactions: PathLike, genes: PathLike,
                        split: PathLike, fold: int, graph_paths: list[PathLike],
                        out_dir: PathLike, roles: tuple[str, ...] = ("test", "val"),
                        strong_threshold: float = DEFAULT_STRONG_THRESHOLD) -> dict[str, Any]:
    """Write ``predictions.parquet`` and ``metrics.json`` for a joint-training checkpoint."""
    out_dir = Path(out_dir)
    module = JointDango.load_from_checkpoint(checkpoint, map_location="cpu")
    data = InteractionDataModule(interactions, genes, split, fold)
    data.setup("test")
    module.attach_graphs(load_graphs(graph_paths, data.gene_names))
    predictions = pd.concat([predict_role(module, data, role) for role in roles],
                            ignore_index=True)
    metrics: dict[str, Any] = {
        role: metrics_for(predictions[predictions["role"] == role], strong_threshold)
        for role in roles
    }
    metrics["networks"] = list(module.hparams.networks)
    metrics["checkpoint"] = str(checkpoint)
    write_parquet_atomic(predictions, out_dir / "predictions.parquet")
    write_text_atomic(out_dir / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    test = metrics.get("test", {})
    log.info("test: Pearson %.4f Spearman %.4f AUROC %.4f (oracle %s)", test.get("pearson"),
             test.get("spearman"), test.get("auroc"), test.get("oracle_pearson"))
    return metrics
