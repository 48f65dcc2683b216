"""Models: plain ``torch.nn.Module``s built from PyTorch Geometric layers.

Nothing here reads files or configs, knows about Lightning, or moves tensors between devices;
training systems in :mod:`geneint.train` receive these modules and own the losses' weighting,
the optimisers and the logging.
"""

from geneint.models.dango import (
    Dango,
    HyperSAGNN,
    MetaEmbedding,
    NetworkEncoder,
    ReconstructionHead,
    SetSelfAttention,
    activation_from_name,
    weighted_mse,
    weighted_mse_original,
    weighted_mse_sparse,
)

__all__ = [
    "Dango",
    "HyperSAGNN",
    "MetaEmbedding",
    "NetworkEncoder",
    "ReconstructionHead",
    "SetSelfAttention",
    "activation_from_name",
    "weighted_mse",
    "weighted_mse_original",
    "weighted_mse_sparse",
]
