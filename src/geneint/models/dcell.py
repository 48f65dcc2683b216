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
output chunks (views of their stratum's output, split per term), its genes' states and zero
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
        # Neurons are laid out stratum by stratum, group by group, term by term.
        self.term_start = [0] * num_terms
        offset = 0
        self.stratum_spans: list[tuple[int, int]] = []
        self.stratum_terms: list[list[int]] = []
        self.groups = nn.ModuleList()
        self.stratum_group_ids: list[list[int]] = []
        self.norms = nn.ModuleList()
        strata = [[t for t in range(num_terms) if height[t] == h]
                  for h in range(max(height, default=-1) + 1)]
        for stratum in strata:
            by_shape: dict[tuple[int, int], list[int]] = {}
            for t in stratum:
                n_inputs = sum(widths[c] for c in children[t]) + len(genes[t])
                shape = (bucket(widths[t], buckets_per_octave),
                         bucket(max(1, n_inputs), buckets_per_octave))
                by_shape.setdefault(shape, []).append(t)
            start, order, group_ids = offset, [], []
            for (rows, cols), terms in sorted(by_shape.items()):
                for t in terms:
                    self.term_start[t] = offset
                    offset += widths[t]
                order.extend(terms)
                self.groups.append(_TermGroup(terms, [list(children[t]) for t in terms],
                                              [sorted(genes[t]) for t in terms],
                                              [widths[t] for t in terms], widths, rows, cols))
                group_ids.append(len(self.groups) - 1)
            self.stratum_spans.append((start, offset))
            self.stratum_terms.append(order)
            self.stratum_group_ids.append(group_ids)
            self.norms.append(nn.BatchNorm1d(offset - start))
        self.num_neurons = offset
        neuron_term = torch.empty(offset, dtype=torch.long)
        for t in range(num_terms):
            neuron_term[self.term_start[t]:self.term_start[t] + widths[t]] = t
        self.register_buffer("neuron_term", neuron_term, persistent=False)
        fan_in = torch.tensor([float(widths[t]) for t in neuron_term.tolist()])
        self.head_weight = nn.Parameter((torch.rand(offset) * 2 - 1) / fan_in.sqrt())
        self.head_bias = nn.Parameter(torch.zeros(num_terms))

    # -- the leaves-to-root pass ---------------------------------------------------------------
    def perturbation(self, genes: Tensor, mask: Tensor, states: Tensor | None = None) -> Tensor:
        """:math:`(B, G)` gene states: 1 (or ``states``) for each perturbed gene, else 0."""
        x = genes.new_zeros((genes.shape[0], self.num_genes), dtype=torch.float32)
        rows = torch.arange(genes.shape[0], device=genes.device).unsqueeze(1).expand_as(genes)
        values = torch.ones_like(genes, dtype=x.dtype) if states is None else states
        return x.index_put((rows[mask], genes[mask]), values[mask])

    def neurons(self, genes: Tensor, mask: Tensor, states: Tensor | None = None) -> Tensor:
        """Every term's neurons, :math:`(B, N)`; term t at ``term_slice(t)``."""
        x = self.perturbation(genes, mask, states)
        chunks: list[Tensor | None] = [None] * self.num_terms
        widest = max((g.weight.shape[2] for g in self.groups), default=1)
        padding = x.new_zeros((x.shape[0], widest))
        strata = []
        for index, terms in enumerate(self.stratum_terms):
            pre = torch.cat([self.groups[g](x, chunks, padding)
                             for g in self.stratum_group_ids[index]], dim=1)
            h = self.norms[index](torch.tanh(pre))
            for t, chunk in zip(terms, h.split([self.widths[t] for t in terms], dim=1),
                                strict=True):
                chunks[t] = chunk
            strata.append(h)
        return torch.cat(strata, dim=1)

    def term_slice(self, term: int) -> slice:
        return slice(self.term_start[term], self.term_start[term] + self.widths[term])

    def term_outputs(self, neurons: Tensor) -> Tensor:
        """Every term's head, :math:`(B, T)`; the root's (last) is the prediction."""
        out = neurons.new_zeros((neurons.shape[0], self.num_terms))
        return out.index_add(1, self.neuron_term, neurons * self.head_weight) + self.head_bias

    def score(self, state: Any, genes: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        out = self.term_outputs(self.neurons(genes, mask))
        return out[:, -1], out[:, :-1]


class _TermGroup(nn.Module):
    """Terms of one stratum padded to one shape: a single batched matmul.

    A term's input is ``[children's outputs; its direct genes' states; zeros]`` (K columns);
    ``weight`` (T, R, K) and ``bias`` (T, R) are initialised as ``nn.Linear`` per term (uniform
    ±1/√fan-in) on the real block and 0 on the padding, which never receives a gradient;
    ``keep`` picks each term's real rows out of the (T·R) outputs, in term order.
    """

    def __init__(self, terms: list[int], children: list[list[int]], genes: list[list[int]],
                 widths: list[int], all_widths: list[int], rows: int, cols: int) -> None:
        super().__init__()
        self.terms, self.children_of = terms, children
        self.n_inputs = [sum(all_widths[c] for c in kids) + len(g)
                         for kids, g in zip(children, genes, strict=True)]
        self.gene_counts = [len(g) for g in genes]
        self.register_buffer("gene_columns", torch.tensor([c for g in genes for c in g],
                                                          dtype=torch.long), persistent=False)
        weight = torch.zeros(len(terms), rows, cols)
        bias = torch.zeros(len(terms), rows)
        keep = []
        for i, (n_inputs, width) in enumerate(zip(self.n_inputs, widths, strict=True)):
            bound = 1.0 / math.sqrt(max(1, n_inputs))
            weight[i, :width, :n_inputs] = (torch.rand(width, n_inputs) * 2 - 1) * bound
            bias[i, :width] = (torch.rand(width) * 2 - 1) * bound
            keep.extend(range(i * rows, i * rows + width))
        # Rows are padded only where widths differ; elsewhere every row is kept as it is.
        self.all_rows = keep == list(range(len(terms) * rows))
        self.register_buffer("keep", torch.tensor(keep, dtype=torch.long), persistent=False)
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)

    def forward(self, x: Tensor, chunks: list[Tensor | None], padding: Tensor) -> Tensor:
        batch, cols = x.shape[0], self.weight.shape[2]
        gene_parts = x[:, self.gene_columns].split(self.gene_counts, dim=1)
        parts: list[Tensor] = []
        for kids, gene_part, n_inputs in zip(self.children_of, gene_parts, self.n_inputs,
                                             strict=True):
            parts.extend(chunks[c] for c in kids)
            parts.append(gene_part)
            if n_inputs < cols:
                parts.append(padding[:, :cols - n_inputs])
        inputs = torch.cat(parts, dim=1).view(batch, len(self.terms), cols).transpose(0, 1)
        out = torch.baddbmm(self.bias.unsqueeze(1), inputs, self.weight.transpose(1, 2))
        out = out.transpose(0, 1).reshape(batch, -1)
        return out if self.all_rows else out[:, self.keep]

    def term_block(self, index: int, width: int, n_inputs: int) -> tuple[Tensor, Tensor]:
        """Term ``index``'s real weight (width × inputs) and bias, as one ``nn.Linear``."""
        return (self.weight[index, :width, :n_inputs], self.bias[index, :width])
