r"""DCell (Ma et al. 2018, Nat Methods): a visible neural network with one subsystem per ontology
term, run from the leaves to the root.

A term :math:`t` with :math:`n_t = \max(20, \lceil 0.3\,|genes(t)|\rceil)` neurons computes
:math:`h_t = \mathrm{BN}(\tanh(W_t [h_{c_1}; \dots; h_{c_k}; x_{D(t)}] + b_t))` — its children's
outputs and the perturbation states of its *directly* annotated genes :math:`D(t)` (binary: 1 =
deleted), as in the original code's masked gene layer. Every term has a linear head
:math:`\hat y_t = w_t^\top h_t + c_t`; the root's is the prediction, the others are auxiliary
(DCell's loss: root MSE + α Σ or mean of the auxiliary MSEs, in
:class:`~geneint.train.set_regression.SetRegression`).

Why it is fast: TorchCell loops over ~2,600 terms in Python per batch (about 2.2 h per epoch on
4 GPUs). Here the terms of one stratum (same height above the leaves; children are always in an
earlier stratum) are computed together: terms of similar width and input size are padded to a
common shape (a bucket) and run as one batched matmul, so a forward pass is a few hundred
BLAS calls whatever the ontology's size. A term's input is one ``torch.cat`` of its children's
output chunks (views of their group's output), its genes' states and zero
padding: the backward pass of a concatenation hands each chunk a view of the gradient, so
gradients cost O(batch × edges × width) — an index into one big activation buffer would
allocate a gradient of the whole buffer for every group. :mod:`geneint.models.dcell_reference`
is the per-term loop it is tested against.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from geneint.models.base import SetModel

#: Buckets per doubling of a size: padding wastes at most 1/4 of a group's compute.
BUCKETS_PER_OCTAVE = 4


def term_width(n_genes: int, min_neurons: int = 20, neuron_ratio: float = 0.3) -> int:
    """Neurons of a term with ``n_genes`` genes over itself and its descendants (the paper's
    max(20, ⌈0.3·genes⌉))."""
    return max(min_neurons, math.ceil(neuron_ratio * n_genes))


def bucket(size: int, per_octave: int = BUCKETS_PER_OCTAVE) -> int:
    """``size`` rounded up to a multiple of 2^⌊log2 size⌋ / per_octave (≤ 1/per_octave more)."""
    step = max(1, (1 << (max(size, 1).bit_length() - 1)) // per_octave)
    return -(-size // step) * step


def dcell_config(children: list[list[int]], genes: list[list[int]], gene_counts: list[int],
                 num_genes: int, min_neurons: int = 20,
                 neuron_ratio: float = 0.3) -> dict[str, Any]:
    """Constructor arguments of :class:`DCell` (JSON-able: saved in checkpoints). Terms are
    indexed leaves first with the root last; ``genes`` are direct genes as gene-index rows."""
    return {"num_genes": num_genes, "children": children, "genes": genes,
            "widths": [term_width(n, min_neurons, neuron_ratio) for n in gene_counts]}


class DCell(SetModel):
    """DCell over a fixed ontology; :meth:`score` returns ``(root prediction, auxiliary)`` with
    one auxiliary prediction per non-root term, shapes :math:`(B,)` and :math:`(B, T-1)`.

    Args:
        num_genes: size of the gene index (perturbation states).
        children: per term (leaves first, root last), its child terms.
        genes: per term, its directly annotated genes (gene-index rows).
        widths: neurons per term.
        buckets_per_octave: shape bucketing of the batched matmuls (speed only).
    """

    def __init__(self, num_genes: int, children: list[list[int]], genes: list[list[int]],
                 widths: list[int], buckets_per_octave: int = BUCKETS_PER_OCTAVE) -> None:
        super().__init__()
        num_terms = len(children)
        if not (len(genes) == len(widths) == num_terms):
            raise ValueError("children, genes and widths need one entry per term")
        self.num_genes, self.num_terms = num_genes, num_terms
        self.widths = list(widths)
        height = [0] * num_terms
        for t, kids in enumerate(children):
            if any(c >= t for c in kids):
                raise ValueError(f"term {t} lists a child at or after it: terms must be leaves "
                                 "first")
            height[t] = 1 + max((height[c] for c in kids), default=-1)
        if num_terms and height[-1] != max(height):
            raise ValueError("the last term must be the root")
        # Groups of terms of one stratum with similar shapes, strata in order; neurons are
        # numbered group by group, term by term (``term_slice``).
        self.term_start = [0] * num_terms
        self.groups = nn.ModuleList()
        offset = 0
        for h in range(max(height, default=-1) + 1):
            by_shape: dict[tuple[int, int], list[int]] = {}
            for t in (t for t in range(num_terms) if height[t] == h):
                n_inputs = sum(widths[c] for c in children[t]) + len(genes[t])
                shape = (bucket(widths[t], buckets_per_octave),
                         bucket(max(1, n_inputs), buckets_per_octave))
                by_shape.setdefault(shape, []).append(t)
            for _, terms in sorted(by_shape.items()):
                for t in terms:
                    self.term_start[t] = offset
                    offset += widths[t]
                self.groups.append(_TermGroup(terms, [list(children[t]) for t in terms],
                                              [sorted(genes[t]) for t in terms], widths))
        self.num_neurons = offset
        self.neuron_order = sorted(range(num_terms), key=self.term_start.__getitem__)
        self.num_strata = max(height, default=-1) + 1
        # Term outputs come out group by group; this puts them back in term order.
        by_group = [t for g in self.groups for t in g.terms]
        self.register_buffer("term_order", torch.tensor(by_group).argsort(), persistent=False)

    # -- the leaves-to-root pass ---------------------------------------------------------------
    def perturbation(self, genes: Tensor, mask: Tensor, states: Tensor | None = None) -> Tensor:
        """:math:`(G, B)` gene states (feature-major): 1 (or ``states``) for each perturbed
        gene of each set, 0 elsewhere."""
        x = genes.new_zeros((self.num_genes, genes.shape[0]), dtype=torch.float32)
        cols = torch.arange(genes.shape[0], device=genes.device).unsqueeze(1).expand_as(genes)
        values = torch.ones_like(genes, dtype=x.dtype) if states is None else states
        return x.index_put((genes[mask], cols[mask]), values[mask])

    def run(self, genes: Tensor, mask: Tensor,
            states: Tensor | None = None) -> tuple[Tensor, list[Tensor | None]]:
        """Every term's head, :math:`(T, B)` in term order (the root last), and every term's
        neurons, :math:`(n_t, B)` each."""
        x = self.perturbation(genes, mask, states)
        chunks: list[Tensor | None] = [None] * self.num_terms
        widest = max((g.weight.shape[2] for g in self.groups), default=1)
        padding = x.new_zeros((widest, x.shape[1]))
        heads = [group(x, chunks, padding) for group in self.groups]
        return torch.cat(heads)[self.term_order], chunks

    def neurons(self, genes: Tensor, mask: Tensor, states: Tensor | None = None) -> Tensor:
        """Every term's neurons, :math:`(B, N)`; term t at ``term_slice(t)``."""
        return self.flatten(self.run(genes, mask, states)[1])

    def flatten(self, chunks: list[Tensor | None]) -> Tensor:
        """Per-term neurons from :meth:`run` as one :math:`(B, N)` matrix (``term_slice``)."""
        return torch.cat([chunks[t] for t in self.neuron_order]).t()

    def term_slice(self, term: int) -> slice:
        return slice(self.term_start[term], self.term_start[term] + self.widths[term])

    def score(self, state: Any, genes: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        heads, _ = self.run(genes, mask)
        return heads[-1], heads[:-1].t()


class _TermGroup(nn.Module):
    """Terms of one stratum padded to one shape (T terms, R rows, K inputs), feature-major.

    A term's input is ``[children's neurons; its direct genes' states; zeros]`` (K rows of the
    batch); ``weight`` (T, R, K) and ``bias`` (T, R, 1) are initialised as ``nn.Linear`` per
    term (uniform ±1/√fan-in) on the real block and 0 on the padding. tanh, then one
    ``BatchNorm1d`` over the T·R neurons (per neuron, as DCell's per-term batch norms), then
    each term's head (``head_weight`` (T, 1, R), 0 on padded rows). Padded inputs are zeros and
    padded rows are never read, so padding never receives a gradient and stays 0.
    """

    def __init__(self, terms: list[int], children: list[list[int]], genes: list[list[int]],
                 all_widths: list[int]) -> None:
        super().__init__()
        self.terms, self.children_of = terms, children
        self.widths = [all_widths[t] for t in terms]
        self.n_inputs = [sum(all_widths[c] for c in kids) + len(g)
                         for kids, g in zip(children, genes, strict=True)]
        self.gene_counts = [len(g) for g in genes]
        self.register_buffer("gene_rows", torch.tensor([c for g in genes for c in g],
                                                       dtype=torch.long), persistent=False)
        rows, cols = max(self.widths), max(1, max(self.n_inputs))
        weight = torch.zeros(len(terms), rows, cols)
        bias = torch.zeros(len(terms), rows, 1)
        head = torch.zeros(len(terms), 1, rows)
        for i, (n_inputs, width) in enumerate(zip(self.n_inputs, self.widths, strict=True)):
            bound = 1.0 / math.sqrt(max(1, n_inputs))
            weight[i, :width, :n_inputs] = (torch.rand(width, n_inputs) * 2 - 1) * bound
            bias[i, :width, 0] = (torch.rand(width) * 2 - 1) * bound
            head[i, 0, :width] = (torch.rand(width) * 2 - 1) / math.sqrt(width)
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)
        self.norm = nn.BatchNorm1d(len(terms) * rows)
        self.head_weight = nn.Parameter(head)
        self.head_bias = nn.Parameter(torch.zeros(len(terms), 1))

    def forward(self, x: Tensor, chunks: list[Tensor | None], padding: Tensor) -> Tensor:
        """Fill ``chunks`` with this group's neurons; return its heads, (T, B)."""
        batch, (terms, rows, cols) = x.shape[1], self.weight.shape
        gene_parts = x.index_select(0, self.gene_rows).split(self.gene_counts)
        parts: list[Tensor] = []
        for kids, gene_part, n_inputs in zip(self.children_of, gene_parts, self.n_inputs,
                                             strict=True):
            parts.extend(chunks[c] for c in kids)
            parts.append(gene_part)
            if n_inputs < cols:
                parts.append(padding[:cols - n_inputs])
        inputs = torch.cat(parts).view(terms, cols, batch)
        pre = torch.baddbmm(self.bias, self.weight, inputs)
        # BatchNorm1d on (1, T·R, B): per-neuron statistics over the batch, feature-major.
        h = self.norm(torch.tanh(pre).view(1, terms * rows, batch)).view(terms, rows, batch)
        # unbind, not h[i]: its backward stacks the terms' gradients once, where indexing
        # would allocate a gradient of the whole group per term.
        for t, width, term_h in zip(self.terms, self.widths, h.unbind(0), strict=True):
            chunks[t] = term_h if width == rows else term_h[:width]
        return torch.bmm(self.head_weight, h).squeeze(1) + self.head_bias

    def term_block(self, index: int) -> dict[str, Tensor]:
        """Term ``index``'s real parameters, as one ``nn.Linear``, norm and head."""
        width, n_inputs, rows = self.widths[index], self.n_inputs[index], self.weight.shape[1]
        norm = slice(index * rows, index * rows + width)
        return {"weight": self.weight[index, :width, :n_inputs],
                "bias": self.bias[index, :width, 0],
                "norm": {k: getattr(self.norm, k)[norm]
                         for k in ("weight", "bias", "running_mean", "running_var")},
                "head_weight": self.head_weight[index, :, :width],
                "head_bias": self.head_bias[index]}
