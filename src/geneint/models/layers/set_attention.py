r"""Set self-attention with ReZero and the Hyper-SAGNN set scorer (docs/dango.md §4)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch_geometric.typing import OptTensor

from geneint.models.layers.common import activation_from_name, check_positive

OUTPUT_MODES = ("diff", "dynamic")


def _resolve_mask(x: Tensor, mask: OptTensor) -> Tensor:
    if mask is None:
        return torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    if mask.shape != x.shape[:2]:
        raise ValueError(f"mask must have shape {tuple(x.shape[:2])} (B, S), "
                         f"got {tuple(mask.shape)}")
    return mask.bool()


class SetSelfAttention(nn.Module):
    r"""One multi-head self-attention layer over the genes of each set, with a ReZero residual
    (docs/dango.md §4.1; `Hyper-SAGNN <https://arxiv.org/abs/1911.02613>`_,
    `ReZero <https://arxiv.org/abs/2003.04887>`_):

    .. math::
        \tilde\alpha^{h}_{i \gets j} = \frac{(\mathbf{W}^h_Q \mathbf{x}_i)^\top
        (\mathbf{W}^h_K \mathbf{x}_j)}{\sqrt{d_k}}, \qquad
        \hat{\mathbf{d}}_i = \sigma\left(\mathbf{W}_O \,\Big\Vert_{h=1}^{H}
        \sum_{j \in \mathcal{A}(i)} \mathrm{softmax}_j(\tilde\alpha^{h}_{i \gets j})\,
        \mathbf{W}^h_V \mathbf{x}_j\right), \qquad
        \mathbf{d}_i = \beta\, \hat{\mathbf{d}}_i + \mathbf{x}_i,

    where :math:`\mathcal{A}(i)` is the set's real genes other than :math:`i` (``self_mask=True``,
    the paper) or including :math:`i` (``self_mask=False``, the original code), and
    :math:`\beta` is a learnable scalar initialised at ``rezero_init`` (0). Padding never
    contributes; a row with no admissible key (a padding slot, or a single gene under
    ``self_mask``) gets zero attention output instead of NaN. :math:`\mathbf{W}_{Q,K,V}` have no
    bias, as in the original code.

    Args:
        dim (int): Embedding size :math:`D`.
        num_heads (int, optional): Number of heads :math:`H`. (default: :obj:`4`)
        head_dim (int, optional): Per-head size :math:`d_k = d_v`; :obj:`None` means :math:`D`
            (docs/dango.md §4.3, as in the original code). Set ``dim // num_heads`` for the
            :class:`torch.nn.MultiheadAttention` convention. (default: :obj:`None`)
        activation (str, optional): :math:`\sigma`. (default: :obj:`"relu"`)
        self_mask (bool, optional): Forbid attention of a gene to itself. (default: :obj:`True`)
        dropout (float, optional): Dropout on :math:`\hat{\mathbf{d}}_i`. (default: :obj:`0.0`)
        rezero_init (float, optional): Initial :math:`\beta`. (default: :obj:`0.0`)

    Shapes:
        - **inputs:** gene embeddings :math:`(B, S, D)`, mask :math:`(B, S)` (bool, True = real
          gene; optional)
        - **output:** :math:`(B, S, D)`
    """

    def __init__(
        self,
        dim: int,
        num_heads: int = 4,
        head_dim: int | None = None,
        activation: str = "relu",
        self_mask: bool = True,
        dropout: float = 0.0,
        rezero_init: float = 0.0,
    ) -> None:
        super().__init__()
        check_positive("dim", dim)
        check_positive("num_heads", num_heads)
        check_positive("head_dim", head_dim, allow_none=True)
        self.dim = dim
        self.num_heads = num_heads
        self.head_dim = dim if head_dim is None else head_dim
        self.activation = activation
        self.self_mask = self_mask
        self.rezero_init = rezero_init
        inner = num_heads * self.head_dim
        self.lin_q = nn.Linear(dim, inner, bias=False)
        self.lin_k = nn.Linear(dim, inner, bias=False)
        self.lin_v = nn.Linear(dim, inner, bias=False)
        self.lin_out = nn.Linear(inner, dim)
        self.act = activation_from_name(activation)
        self.dropout = nn.Dropout(dropout)
        self.beta = nn.Parameter(torch.empty(()))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in (self.lin_q, self.lin_k, self.lin_v, self.lin_out):
            lin.reset_parameters()
        with torch.no_grad():
            self.beta.fill_(self.rezero_init)

    def attention_mask(self, mask: Tensor) -> Tensor:
        """``allowed[b, i, j]``: may gene ``i`` of set ``b`` attend to gene ``j``? (B, S, S)."""
        size = mask.size(-1)
        allowed = mask.unsqueeze(-2).expand(-1, size, -1)
        if self.self_mask:
            allowed = allowed & ~torch.eye(size, dtype=torch.bool, device=mask.device)
        return allowed

    def attend(self, x: Tensor, mask: OptTensor = None) -> Tensor:
        r""":math:`\hat{\mathbf{d}}` before dropout and ReZero: :math:`(B, S, D)`."""
        mask = _resolve_mask(x, mask)
        batch, size, _ = x.shape
        heads = (batch, size, self.num_heads, self.head_dim)
        q = self.lin_q(x).view(heads).transpose(1, 2)  # (B, H, S, d_k)
        k = self.lin_k(x).view(heads).transpose(1, 2)
        v = self.lin_v(x).view(heads).transpose(1, 2)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)  # (B, H, S, S)
        allowed = self.attention_mask(mask).unsqueeze(1)
        # A finite fill keeps fully masked rows NaN-free; they are zeroed after the softmax.
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
        attn = scores.softmax(dim=-1).masked_fill(~allowed, 0.0)
        out = (attn @ v).transpose(1, 2).reshape(batch, size, -1)
        return self.act(self.lin_out(out))

    def forward(self, x: Tensor, mask: OptTensor = None) -> Tensor:
        return self.beta * self.dropout(self.attend(x, mask)) + x

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.dim}, num_heads={self.num_heads}, "
                f"head_dim={self.head_dim}, activation={self.activation!r}, "
                f"self_mask={self.self_mask})")


class HyperSAGNN(nn.Module):
    r"""Scores a gene set from its genes' embeddings (docs/dango.md §4; `Hyper-SAGNN
    <https://arxiv.org/abs/1911.02613>`_ with `ReZero <https://arxiv.org/abs/2003.04887>`_).

    Static embedding :math:`\mathbf{s}_i = \sigma(\mathbf{W}_s \mathbf{E}_i + \mathbf{b}_s)`;
    dynamic embedding :math:`\mathbf{d}_i` from ``num_layers`` :class:`SetSelfAttention` layers
    (§4.1) applied to the set's :math:`\mathbf{E}`. Two output modes (§4.2):

    - ``output="diff"`` (paper):
      :math:`y_i = \mathrm{FC}\left((\mathbf{d}_i - \mathbf{s}_i) \circ
      (\mathbf{d}_i - \mathbf{s}_i)\right)`, :math:`\hat\tau = \frac{1}{|S|}\sum_{i \in S} y_i`;
    - ``output="dynamic"`` (original code):
      :math:`y_i = \mathrm{FC}(\mathrm{LayerNorm}(\mathbf{d}_i))`,
      :math:`\hat\tau = \sum_{i \in S} y_i`. The static branch is not built in this mode, so
      every parameter is used (DDP needs no ``find_unused_parameters``).

    Sets of different sizes share a batch by padding: ``mask`` marks the real genes, padding
    slots are zeroed, never attended to and never pooled, so a set's score does not depend on
    what is padded around it, and it is invariant to the order of the set's genes.

    Args:
        dim (int): Embedding size :math:`D`.
        num_heads (int, optional): Attention heads. (default: :obj:`4`)
        num_layers (int, optional): Self-attention layers. (default: :obj:`2`)
        activation (str, optional): :math:`\sigma`. (default: :obj:`"relu"`)
        self_mask (bool, optional): Genes attend only to the other genes of their set.
            (default: :obj:`True`)
        output (str, optional): ``"diff"`` or ``"dynamic"``. (default: :obj:`"diff"`)
        dropout (float, optional): Dropout on each layer's attention output.
            (default: :obj:`0.0`)
        rezero_init (float, optional): Initial ReZero :math:`\beta` of every layer.
            (default: :obj:`0.0`)
        head_dim (int, optional): Per-head size; :obj:`None` means :math:`D`.
            (default: :obj:`None`)

    Shapes:
        - **inputs:** gene embeddings :math:`(B, S, D)`, mask :math:`(B, S)` (bool, True = real
          gene, at least 2 per set; optional, default all True)
        - **output:** set scores :math:`(B,)`; :meth:`node_scores` gives :math:`(B, S)`
    """

    def __init__(
        self,
        dim: int,
        num_heads: int = 4,
        num_layers: int = 2,
        activation: str = "relu",
        self_mask: bool = True,
        output: str = "diff",
        dropout: float = 0.0,
        rezero_init: float = 0.0,
        head_dim: int | None = None,
    ) -> None:
        super().__init__()
        check_positive("dim", dim)
        if num_layers < 0:
            raise ValueError(f"num_layers must be >= 0, got {num_layers}")
        if output not in OUTPUT_MODES:
            raise ValueError(f"output must be one of {OUTPUT_MODES}, got {output!r}")
        self.dim = dim
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.activation = activation
        self.self_mask = self_mask
        self.output = output
        self.layers = nn.ModuleList([
            SetSelfAttention(dim, num_heads=num_heads, head_dim=head_dim, activation=activation,
                             self_mask=self_mask, dropout=dropout, rezero_init=rezero_init)
            for _ in range(num_layers)
        ])
        self.lin_static = nn.Linear(dim, dim) if output == "diff" else None
        self.norm = nn.LayerNorm(dim) if output == "dynamic" else None
        self.act = activation_from_name(activation)
        self.lin_out = nn.Linear(dim, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for layer in self.layers:
            layer.reset_parameters()
        if self.lin_static is not None:
            self.lin_static.reset_parameters()
        if self.norm is not None:
            self.norm.reset_parameters()
        self.lin_out.reset_parameters()

    def static(self, x: Tensor) -> Tensor:
        r""":math:`\mathbf{s} = \sigma(\mathbf{W}_s \mathbf{E} + \mathbf{b}_s)`, shape kept."""
        if self.lin_static is None:
            raise RuntimeError("the static branch exists only with output='diff'")
        return self.act(self.lin_static(x))

    def dynamic(self, x: Tensor, mask: OptTensor = None) -> Tensor:
        r""":math:`\mathbf{d}` after all attention layers, :math:`(B, S, D)`."""
        mask = _resolve_mask(x, mask)
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def node_scores(self, x: Tensor, mask: OptTensor = None) -> Tensor:
        r"""Per-gene scores :math:`y_i`, :math:`(B, S)`; padding slots are 0."""
        mask = _resolve_mask(x, mask)
        x = x.masked_fill(~mask.unsqueeze(-1), 0.0)
        d = self.dynamic(x, mask)
        if self.output == "diff":
            h = (d - self.static(x)).square()
        else:
            h = self.norm(d)
        return self.lin_out(h).squeeze(-1).masked_fill(~mask, 0.0)

    def forward(self, x: Tensor, mask: OptTensor = None) -> Tensor:
        mask = _resolve_mask(x, mask)
        total = self.node_scores(x, mask).sum(dim=-1)
        if self.output == "dynamic":
            return total
        return total / mask.sum(dim=-1).clamp(min=1)


    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.dim}, num_heads={self.num_heads}, "
                f"num_layers={self.num_layers}, activation={self.activation!r}, "
                f"self_mask={self.self_mask}, output={self.output!r})")

