"""Building blocks of the neural models, one concept a file (PyG style)."""

from geneint.models.layers.common import (
    ACTIVATIONS,
    activation_from_name,
    check_positive,
)
from geneint.models.layers.meta_embedding import MetaEmbedding
from geneint.models.layers.network_encoder import NetworkEncoder
from geneint.models.layers.reconstruction import (
    RECONSTRUCTION_FORMS,
    ReconstructionHead,
    weighted_mse,
    weighted_mse_original,
    weighted_mse_sparse,
)
from geneint.models.layers.set_attention import (
    OUTPUT_MODES,
    HyperSAGNN,
    SetSelfAttention,
)

__all__ = [
    "ACTIVATIONS",
    "OUTPUT_MODES",
    "RECONSTRUCTION_FORMS",
    "HyperSAGNN",
    "MetaEmbedding",
    "NetworkEncoder",
    "ReconstructionHead",
    "SetSelfAttention",
    "activation_from_name",
    "check_positive",
    "weighted_mse",
    "weighted_mse_original",
    "weighted_mse_sparse",
]
