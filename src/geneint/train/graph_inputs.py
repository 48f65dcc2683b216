"""Graphs as a model input: kept out of the module's state on purpose.

Registered buffers would be saved in checkpoints and broadcast by DDP before every forward (and
DDP cannot broadcast sparse tensors); graphs are inputs, re-attached after loading, and moved to
the module's device on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor
from torch_geometric.typing import Adj

from geneint.graphs.adjacency import AdjacencyRows
from geneint.graphs.network import NetworkGraph


class GraphTensors(Sequence):
    """Per network, what its encoder propagates over (the sequence itself, in model order) and
    its reconstruction targets (:attr:`targets`).

    Args:
        graphs: the networks, in model order.
        propagation_input: maps a graph's ``edge_index`` and node count to what the model's
            encoders take (e.g. :meth:`geneint.models.dango.Dango.propagation_input`).
    """

    def __init__(self, graphs: Sequence[NetworkGraph],
                 propagation_input: Callable[[Tensor, int], Adj]) -> None:
        self.names = [g.name for g in graphs]
        self.inputs = [propagation_input(g.edge_index, g.num_nodes) for g in graphs]
        self.targets = [AdjacencyRows(g.edge_index, g.weight, g.num_nodes) for g in graphs]
        self.device = torch.device("cpu")

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index):
        return self.inputs[index]

    def on(self, device: torch.device) -> GraphTensors:
        if device != self.device:
            self.inputs = [t.to(device) for t in self.inputs]
            self.targets = [t.to(device) for t in self.targets]
            self.device = device
        return self
