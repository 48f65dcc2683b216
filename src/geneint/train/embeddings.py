"""``embeddings.pt``: one network's pretrained gene embeddings (G, D), with the network's name
and the gene index they were computed over. Written by pretraining, read by the models that
use embeddings as features (``rf_embeddings``, ``xgboost``)."""

from __future__ import annotations

import torch
from torch import Tensor

from geneint.data.files import PathLike, atomic_output


def write_embeddings(network: str, genes: list[str], embeddings: Tensor, path: PathLike) -> None:
    if embeddings.shape[0] != len(genes):
        raise ValueError(f"{network}: {embeddings.shape[0]} embeddings for {len(genes)} genes")
    with atomic_output(path) as tmp:
        torch.save({"network": network, "genes": list(genes), "embeddings": embeddings}, tmp)


def read_embeddings(path: PathLike, genes: list[str]) -> tuple[str, Tensor]:
    """One network's name and embeddings (G, D), checked against the gene index."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    if list(state["genes"]) != list(genes):
        raise ValueError(f"{path}: embeddings were computed over another gene index "
                         f"({len(state['genes'])} genes, this one has {len(genes)})")
    return state["network"], state["embeddings"]
