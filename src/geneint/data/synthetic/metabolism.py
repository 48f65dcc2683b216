"""A small synthetic genome-scale metabolic model: ``yeast_gem/yeast-GEM.xml`` (SBML L3 FBC).

What is planted
---------------
*Genes.* About one gene in six is metabolic (100 of the demo's 600, ~1,100 at seed scale, close
to Yeast-GEM's 1,161). They come from a few hidden modules, the largest first, until those
modules hold 1.25 × the genes needed; each module gives genes in proportion to its size. So
genes that share a pathway share a module, and FBA's synthetic lethality between them agrees
with the planted negative ε of similar genes.

*Network.* Glucose (uptake ≤ 10) enters the cytosol through two transporter isozymes and is
split into the precursor ``pre_c`` (three glycolytic isozymes). Energy comes from respiration in
the mitochondrion (a three-subunit complex, 3 ATP per precursor; ATP leaves through two
translocator isozymes) or from fermentation (one gene, 1 ATP, ethanol secreted): losing
respiration lowers growth to about a third, losing fermentation costs nothing. Each pathway
(~20 genes of one module) is a chain from ``pre_c`` to a product that the biomass reaction
consumes (coefficient U(0.05, 0.3)), besides a maintenance ATP drain. Chain steps are catalysed
by one of:

==============  =====================================  =====================================
step            GPR                                    knockouts
==============  =====================================  =====================================
single          ``A``                                  A lethal
bifunctional    ``A`` on two consecutive reactions     A lethal
isozymes        ``A or B``                             AB lethal: ε_AB = −1
isozymes3       ``A or B or C``                        ABC lethal: τ_ABC = −1
complex         ``A and B`` (sometimes ``and C``)      each subunit lethal, ε = 0
complex_or      ``(A and B) or C``                     AC, BC lethal
bypass          main ``A``; ``B`` then ``C`` at an     A slows growth (f ∈ ~[0.5, 0.9]);
                ATP cost                               AB, AC lethal; τ_ABC = f_A > 0
side            ``A`` drains an intermediate to a      no effect
                demand reaction
==============  =====================================  =====================================

Gene-free (spontaneous) steps and exchanges pad the model to about 1.5 reactions per metabolic
gene. Everything is drawn from ``numpy.random.default_rng([seed, RNG_STREAM])``, a stream of its
own, and written with cobra's SBML writer; a model built in memory carries no SBML history, so
the same seed gives byte-identical files (no timestamps).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cobra
import numpy as np

from geneint.data.files import PathLike, atomic_output
from geneint.data.synthetic.genes import GeneFactors, GeneTable

#: Where the model goes, relative to the synthetic data folder (as the real one sits).
GEM_FILE = "yeast_gem/yeast-GEM.xml"
#: Second seed word of the model's random stream (``default_rng([seed, RNG_STREAM])``).
RNG_STREAM = 0x6D
GENES_PER_METABOLIC_GENE = 6
REACTIONS_PER_GENE = 1.5
PATHWAY_GENES = 20
GLUCOSE_UPTAKE = 10.0
MAINTENANCE_ATP = 20.0
STEP_KINDS = ("single", "bifunctional", "isozymes", "isozymes3", "complex", "complex_or",
              "bypass", "side")
STEP_P = (0.2, 0.05, 0.22, 0.08, 0.12, 0.08, 0.13, 0.12)
STEP_GENES = {"single": 1, "bifunctional": 1, "isozymes": 2, "isozymes3": 3, "complex": 2,
              "complex_or": 3, "bypass": 3, "side": 1}
CORE_GENES = 11


def metabolic_genes(genes: GeneTable, factors: GeneFactors, rng: np.random.Generator
                    ) -> list[np.ndarray]:
    """Gene indices per chosen module (largest modules first), ``G / 6`` genes in all."""
    n_met = max(CORE_GENES + 1, round(len(genes) / GENES_PER_METABOLIC_GENE))
    ids, sizes = np.unique(factors.module[factors.module >= 0], return_counts=True)
    order = np.lexsort((ids, -sizes))
    chosen, total = [], 0
    for k in order:
        if total >= 1.25 * n_met:
            break
        chosen.append(int(ids[k]))
        total += int(sizes[k])
    pools = [np.flatnonzero(factors.module == m) for m in chosen]
    loose = np.flatnonzero(factors.module < 0)
    if total < n_met:  # tiny gene sets: top up with genes of no module
        pools.append(rng.permutation(loose)[: n_met - total])
        total = sum(len(p) for p in pools)
    raw = np.array([len(p) for p in pools]) / total * n_met
    quota = np.floor(raw).astype(int)
    quota[np.argsort(-(raw - quota), kind="stable")[: n_met - quota.sum()]] += 1
    return [rng.permutation(rng.choice(p, size=q, replace=False)) for p, q in zip(pools, quota,
                                                                                  strict=True)
            if q > 0]


class _Builder:
    """Collects reactions as (id, stoichiometry, GPR, bounds); makes the cobra model at the end."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.reactions: list[tuple[str, dict[str, float], str, tuple[float, float]]] = []
        self.kinds: dict[str, int] = dict.fromkeys(STEP_KINDS, 0)
        self.examples: dict[str, list[str]] = {}
        self.essential: list[str] = []

    def add(self, rid: str, stoich: dict[str, float], gpr: str = "",
            bounds: tuple[float, float] = (0.0, 1000.0)) -> None:
        self.reactions.append((rid, stoich, gpr, bounds))

    def step(self, kind: str, rid: str, src: str, dst: str, g: list[str]) -> None:
        """One chain step ``src → dst`` of the given kind (``side`` leaves the chain at src)."""
        self.kinds[kind] += 1
        if kind in ("isozymes", "isozymes3", "bypass", "complex_or"):
            self.examples.setdefault(kind, []).append("+".join(sorted(g)))
        if kind in ("single", "bifunctional", "complex"):
            self.essential.extend(g)
        if kind == "bifunctional":
            self.add(rid + "a", {src: -1, f"{rid}_i_c": 1}, g[0])
            self.add(rid + "b", {f"{rid}_i_c": -1, dst: 1}, g[0])
        elif kind == "bypass":
            cost = float(np.ceil(self.rng.uniform(0.1, 1.0) * MAINTENANCE_ATP / self.coef))
            self.add(rid, {src: -1, dst: 1}, g[0])
            self.add(rid + "_by1", {src: -1, "atp_c": -cost, "adp_c": cost, f"{rid}_y_c": 1},
                     g[1])
            self.add(rid + "_by2", {f"{rid}_y_c": -1, dst: 1}, g[2])
        elif kind == "side":
            self.add(rid, {src: -1, f"{rid}_s_c": 1}, g[0])
            self.add(f"DM_{rid}_s_c", {f"{rid}_s_c": -1})
        else:
            joiner = " and " if kind == "complex" else " or "
            gpr = f"({g[0]} and {g[1]}) or {g[2]}" if kind == "complex_or" else joiner.join(g)
            self.add(rid, {src: -1, dst: 1}, gpr)

    def pathway(self, p: int, names: list[str]) -> float:
        """A chain ``pre_c → … → prod<p>_c`` using all of ``names``; returns its biomass share."""
        self.coef = float(self.rng.uniform(0.05, 0.3))
        src, s, rest = "pre_c", 0, list(names)
        while rest:
            kind = str(self.rng.choice(STEP_KINDS, p=STEP_P))
            need = STEP_GENES[kind] + (kind == "complex" and self.rng.random() < 0.3)
            if need > len(rest):
                kind, need = ("single", 1) if len(rest) == 1 else ("isozymes", 2)
            g, rest = rest[:need], rest[need:]
            dst = src if kind == "side" else f"p{p}_{s + 1}_c"
            self.step(kind, f"P{p}_{s + 1}", src, dst, g)
            src, s = dst, s + 1
        self.add(f"P{p}_out", {src: -1, f"prod{p}_c": 1})
        return self.coef

    def pad(self, target: int) -> None:
        """Split random gene-carrying chain reactions with gene-free steps until ``target``
        reactions (several passes when there are fewer chain reactions than steps to add)."""
        n_done = 0
        while len(self.reactions) < target:
            chain = [i for i, (rid, st, gpr, _) in enumerate(self.reactions)
                     if rid.startswith("P") and gpr and len(st) == 2]
            n_pad = min(target - len(self.reactions), len(chain))
            for i in sorted(self.rng.choice(chain, size=n_pad, replace=False).tolist(),
                            reverse=True):
                rid, stoich, gpr, bounds = self.reactions[i]
                (src, _), (dst, _) = sorted(stoich.items(), key=lambda kv: kv[1])
                n_done += 1
                mid = f"sp{n_done}_c"
                self.reactions[i] = (rid, {src: -1, mid: 1}, gpr, bounds)
                self.reactions.insert(i + 1, (f"SP{n_done}", {mid: -1, dst: 1}, "", bounds))

    def model(self) -> cobra.Model:
        model = cobra.Model("yeast_gem_synthetic", name="Synthetic yeast GEM (geneint)")
        model.compartments = {"c": "cytoplasm", "e": "extracellular", "m": "mitochondrion"}
        mets: dict[str, cobra.Metabolite] = {}
        reactions = []
        for rid, stoich, gpr, (lb, ub) in self.reactions:
            for m in stoich:
                mets.setdefault(m, cobra.Metabolite(m, name=m, compartment=m.rsplit("_", 1)[1]))
            rxn = cobra.Reaction(rid, name=rid, lower_bound=lb, upper_bound=ub)
            rxn.add_metabolites({mets[m]: c for m, c in stoich.items()})
            rxn.gene_reaction_rule = gpr
            reactions.append(rxn)
        model.add_reactions(reactions)
        # cobra adds a reaction's genes in set order (hash-seeded): sort them, or the SBML
        # bytes would change from one process to the next.
        model.genes.sort()
        for gene in model.genes:
            gene.name = gene.id
        model.objective = "BIOMASS"
        return model


def build_synthetic_gem(genes: GeneTable, factors: GeneFactors, seed: int
                        ) -> tuple[cobra.Model, dict[str, Any]]:
    """The model (in memory) and what was planted in it."""
    rng = np.random.default_rng([seed, RNG_STREAM])
    pools = [genes.names[p].tolist() for p in metabolic_genes(genes, factors, rng)]
    core, pools[0] = pools[0][:CORE_GENES], pools[0][CORE_GENES:]
    b = _Builder(rng)
    b.add("EX_glc_e", {"glc_e": -1}, bounds=(-GLUCOSE_UPTAKE, 1000.0))
    b.add("GLCt", {"glc_e": -1, "glc_c": 1}, " or ".join(core[0:2]))
    b.add("GLYC", {"glc_c": -1, "pre_c": 2}, " or ".join(core[2:5]))
    b.add("PREtm", {"pre_c": -1, "pre_m": 1})
    b.add("RESP", {"pre_m": -1, "adp_m": -3, "atp_m": 3, "co2_m": 1}, " and ".join(core[5:8]))
    b.add("AAC", {"atp_m": -1, "adp_c": -1, "atp_c": 1, "adp_m": 1}, " or ".join(core[8:10]))
    b.add("FERM", {"pre_c": -1, "adp_c": -1, "atp_c": 1, "etoh_c": 1}, core[10])
    b.add("CO2tm", {"co2_m": -1, "co2_c": 1})
    b.add("CO2t", {"co2_c": -1, "co2_e": 1})
    b.add("ETOHt", {"etoh_c": -1, "etoh_e": 1})
    b.add("EX_co2_e", {"co2_e": -1})
    b.add("EX_etoh_e", {"etoh_e": -1})
    biomass: dict[str, float] = {"atp_c": -MAINTENANCE_ATP, "adp_c": MAINTENANCE_ATP}
    chunks = [c for pool in pools if pool for c in np.array_split(
        np.array(pool), max(1, math.ceil(len(pool) / PATHWAY_GENES)))]
    for p, chunk in enumerate(chunks):
        biomass[f"prod{p}_c"] = -round(b.pathway(p, chunk.tolist()), 4)
    b.add("BIOMASS", biomass)
    n_genes = len(core) + sum(len(p) for p in pools)
    b.pad(round(REACTIONS_PER_GENE * n_genes))
    planted = {"pathways": len(chunks), "step_kinds": b.kinds,
               "essential_genes": len(b.essential),
               "examples": {k: v[:3] for k, v in sorted(b.examples.items())}}
    return b.model(), planted


def write_synthetic_gem(out_dir: PathLike, genes: GeneTable, factors: GeneFactors, seed: int
                        ) -> dict[str, Any]:
    """Write :data:`GEM_FILE` under ``out_dir``; return its stats (relative file name, sizes,
    wild-type growth, what was planted). ``essential_genes`` counts the genes of essential steps
    by construction (the unit tests confirm them by FBA; solving here would cost ~2 s at seed
    scale)."""
    model, planted = build_synthetic_gem(genes, factors, seed)
    growth = model.slim_optimize(error_value=0.0)
    if not growth > 0:
        raise AssertionError(f"synthetic GEM does not grow (seed {seed})")
    with atomic_output(Path(out_dir) / GEM_FILE) as tmp:
        cobra.io.write_sbml_model(model, str(tmp))
    return {"file": GEM_FILE, "genes": len(model.genes), "reactions": len(model.reactions),
            "metabolites": len(model.metabolites),
            "reactions_without_gpr": sum(not r.gene_reaction_rule for r in model.reactions),
            "growth": round(growth, 6), **planted}
