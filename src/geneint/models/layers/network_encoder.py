r"""The per-network GNN of DANGO (docs/dango.md §2)."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import SAGEConv
from torch_geometric.typing import Adj
from torch_geometric.utils import add_self_loops as add_self_loops_fn
from torch_geometric.utils import group_argsort, is_sparse, remove_self_loops

from geneint.models.layers.common import activation_from_name, check_positive


class NetworkEncoder(nn.Module):
    r"""The per-network GNN of DANGO (docs/dango.md §2.2, "Layer n update"): a stack of
    mean-aggregation GraphSAGE layers (`Hamilton et al., 2017 <https://arxiv.org/abs/1706.02216>`_),

    .. math::
        \mathbf{H}^{(n)}_{\mathcal{N}(i)} = \mathrm{mean}_{u \in \mathcal{N}(i)}
        \mathbf{H}^{(n-1)}_u, \qquad
        \mathbf{H}^{(n)}_i = \sigma\left(\mathbf{W}^{(n)}_{\mathrm{GNN}}
        \left[\mathbf{H}^{(n-1)}_i \,\Vert\, \mathbf{H}^{(n)}_{\mathcal{N}(i)}\right]\right),

    each layer a :class:`~torch_geometric.nn.conv.SAGEConv` (``aggr="mean"``,
    ``root_weight=True``; :math:`\mathbf{W}[\mathbf{a}\Vert\mathbf{b}] = \mathbf{W}_1\mathbf{a} +
    \mathbf{W}_2\mathbf{b}`) followed by :math:`\sigma`. Message passing is unweighted: as in
    DANGO, edge weights are only reconstruction targets.

    Two switches reproduce the original code:

    - ``num_sampled_neighbors=k`` (original: 5): in training mode, before every layer, each node
      keeps a uniform random subset of at most :math:`k` of its incoming edges, drawn afresh on
      every forward. The draw uses torch's global RNG (no private ``torch.Generator``), so
      ``lightning.seed_everything`` / ``torch.manual_seed`` make it reproducible. In eval mode the
      full neighbourhood is used unless ``sample_in_eval=True`` (the original code also samples
      at evaluation time; we default to the deterministic full mean).
    - ``add_self_loops=True``: the original neighbour lists contain the node itself. Existing
      self-loops are dropped and one self-loop per node is added, so with sampling the node
      competes with its neighbours for the :math:`k` slots, as in the original.

    Args:
        dim (int): Size :math:`D` of the input and output node features.
        num_layers (int, optional): Number of GNN layers. (default: :obj:`2`)
        activation (str, optional): :math:`\sigma`, one of ``"relu"``, ``"swish"``/``"silu"``,
            ``"gelu"``. (default: :obj:`"relu"`)
        num_sampled_neighbors (int, optional): If set, keep at most this many incoming edges per
            node and layer, sampled at random. (default: :obj:`None`, full neighbourhood)
        add_self_loops (bool, optional): Put every node in its own neighbourhood.
            (default: :obj:`False`)
        sample_in_eval (bool, optional): Also sample neighbours in eval mode.
            (default: :obj:`False`)

    Shapes:
        - **inputs:** node features :math:`(|\mathcal{V}|, D)`,
          edge indices :math:`(2, |\mathcal{E}|)` (row 0 source, row 1 destination)
        - **output:** node features :math:`(|\mathcal{V}|, D)`
    """

    def __init__(
        self,
        dim: int,
        num_layers: int = 2,
        activation: str = "relu",
        num_sampled_neighbors: int | None = None,
        add_self_loops: bool = False,
        sample_in_eval: bool = False,
    ) -> None:
        super().__init__()
        check_positive("dim", dim)
        check_positive("num_layers", num_layers)
        check_positive("num_sampled_neighbors", num_sampled_neighbors, allow_none=True)
        self.dim = dim
        self.num_layers = num_layers
        self.activation = activation
        self.num_sampled_neighbors = num_sampled_neighbors
        self.add_self_loops = add_self_loops
        self.sample_in_eval = sample_in_eval
        self.convs = nn.ModuleList(
            [SAGEConv(dim, dim, aggr="mean", root_weight=True) for _ in range(num_layers)])
        self.act = activation_from_name(activation)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()

    @property
    def samples_neighbors(self) -> bool:
        """Whether the next forward samples neighbours (depends on ``self.training``)."""
        return self.num_sampled_neighbors is not None and (self.training or self.sample_in_eval)

    def sample_neighbors(self, edge_index: Tensor, num_nodes: int) -> Tensor:
        r"""Keep a uniform random subset of at most ``num_sampled_neighbors`` incoming edges
        per destination node: random keys, ranked within each destination's group.

        Args:
            edge_index (torch.Tensor): :math:`(2, |\mathcal{E}|)`.
            num_nodes (int): :math:`|\mathcal{V}|`.

        Returns:
            :math:`(2, |\mathcal{E}'|)` with :math:`|\mathcal{E}'| \le |\mathcal{E}|`.
        """
        if self.num_sampled_neighbors is None:
            return edge_index
        # float64 keys: group_argsort offsets them by 2·dst, and float32 would leave only ~10 bits
        # of randomness per group at the ~6.6k genes of the yeast index.
        keys = torch.rand(edge_index.size(1), dtype=torch.float64, device=edge_index.device)
        rank = group_argsort(keys, edge_index[1], num_groups=num_nodes)
        return edge_index[:, rank < self.num_sampled_neighbors]

    def forward(self, x: Tensor, edge_index: Adj) -> Tensor:
        sampling = self.samples_neighbors
        if (sampling or self.add_self_loops) and (not isinstance(edge_index, Tensor)
                                                  or is_sparse(edge_index)):
            raise TypeError("neighbour sampling and add_self_loops need a dense (2, E) "
                            f"edge_index, got {type(edge_index).__name__}")
        num_nodes = x.size(0)
        if self.add_self_loops:
            edge_index, _ = remove_self_loops(edge_index)
            edge_index, _ = add_self_loops_fn(edge_index, num_nodes=num_nodes)
        for conv in self.convs:
            layer_edges = self.sample_neighbors(edge_index, num_nodes) if sampling else edge_index
            x = self.act(conv(x, layer_edges))
        return x

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.dim}, num_layers={self.num_layers}, "
                f"activation={self.activation!r}, "
                f"num_sampled_neighbors={self.num_sampled_neighbors}, "
                f"add_self_loops={self.add_self_loops}, sample_in_eval={self.sample_in_eval})")

