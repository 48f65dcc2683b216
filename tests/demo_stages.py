"""Build a small data set through the real CLI stages (synth → parse → genes → graphs → split,
the ontology and the other network sources),
for tests of training and evaluation. Every stage runs exactly as a workflow rule would run it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from geneint.cli import main
from geneint.data.synthetic import ScaleSpec, synthesize
from geneint.data.synthetic.metabolism import GEM_FILE
from geneint.data.synthetic.networks import BIOGRID_FILE, REGULATION_FILE, TFLINK_FILE

NETWORK_FILES = {"biogrid": ("physical", "genetic"), "regulation": ("regulatory",),
                 "tflink": ("tflink",)}
SOURCE_FILES = {"biogrid": BIOGRID_FILE, "regulation": REGULATION_FILE, "tflink": TFLINK_FILE}
CHANNELS = ("neighborhood", "fusion", "cooccurence", "coexpression", "experimental", "database")
RELEASES = ("9.1", "11.0")

#: ~100 genes, ~600 triples: a full pretrain + train + evaluate in seconds.
TINY = ScaleSpec(n_genes=100, n_double_queries=20, n_single_queries=4, n_array_strains=50,
                 arrays_per_query=30, query_genes_on_array=0.3, n_modules=4)


@dataclass
class PreparedData:
    root: Path
    genes: Path
    interactions: Path
    split: Path
    ontology: Path
    graphs: list[Path] = field(default_factory=list)
    #: Graphs of the other network sources, by network (physical, genetic, regulatory, tflink).
    networks: dict[str, Path] = field(default_factory=dict)
    #: The folder of `geneint parse metabolism` on the synthetic GEM.
    metabolism: Path | None = None

    def pretrain_dir(self, graph: Path, tag: str = "spec") -> Path:
        return self.root / "pretrain" / tag / graph.stem


def run(*argv: str) -> None:
    code = main(list(argv))
    if code != 0:
        raise AssertionError(f"geneint {' '.join(argv)} exited with {code}")


def prepare(root: Path, scale: str | ScaleSpec = TINY, seed: int = 0,
            channels: tuple[str, ...] = CHANNELS, split: str = "random") -> PreparedData:
    raw, processed = root / "raw", root / "processed"
    synthesize(raw, seed=seed, scale=scale)
    edges = []
    for release in RELEASES:
        out = processed / "string" / f"v{release}.parquet"
        run("parse", "string", "--raw",
            str(raw / "string" / f"4932.protein.links.detailed.v{release}.txt.gz"),
            "--out", str(out))
        edges.append(str(out))
    genes = processed / "genes.tsv"
    run("genes", "--sgd", str(raw / "sgd" / "SGD_features.tab"), "--string", *edges,
        "--universe", "sgd", "--out", str(genes))
    interactions = processed / "interactions.parquet"
    run("parse", "interactions", "--kuzmin2018", str(raw / "kuzmin2018" / "aao1729_data_s1.tsv"),
        "--truth", str(raw / "truth" / "tau_noise_free.tsv"), "--genes", str(genes),
        "--out", str(interactions))
    split_path = processed / "splits" / f"{split}.parquet"
    run("split", "--interactions", str(interactions), "--kind", split, "--seed", str(seed),
        "--heldout-genes", "0.3", "--out", str(split_path))
    ontology = processed / "ontology.json"
    run("parse", "ontology", "--obo", str(raw / "go" / "go-basic.obo"), "--gaf",
        str(raw / "go" / "sgd.gaf.gz"), "--genes", str(genes), "--out", str(ontology))
    data = PreparedData(root, genes, interactions, split_path, ontology)
    for channel in channels:
        out = processed / "graphs" / f"string_v9.1_{channel}.npz"
        run("graphs", "build", "--network", f"string_v9.1_{channel}", "--edges", *edges,
            "--releases", *RELEASES, "--genes", str(genes), "--out", str(out))
        data.graphs.append(out)
    sgd = str(raw / "sgd" / "SGD_features.tab")
    for source, network_names in NETWORK_FILES.items():
        table = processed / "networks" / f"{source}.parquet"
        run("parse", "network", "--source", source, "--raw", str(raw / SOURCE_FILES[source]),
            "--genes", str(genes), "--sgd-features", sgd, "--out", str(table))
        for network in network_names:
            out = processed / "graphs" / f"{network}.npz"
            run("graphs", "build", "--network", network, "--edges", str(table), "--genes",
                str(genes), "--out", str(out))
            data.networks[network] = out
    data.metabolism = processed / "metabolism"
    run("parse", "metabolism", "--gem", str(raw / GEM_FILE), "--genes", str(genes), "--out",
        str(data.metabolism))
    return data


def pretrain_all(data: PreparedData, epochs: int = 3, tag: str = "spec",
                 extra: tuple[str, ...] = ()) -> list[Path]:
    paths = []
    for graph in data.graphs:
        out = data.pretrain_dir(graph, tag)
        run("pretrain", "--graph", str(graph), "--genes", str(data.genes), "--epochs",
            str(epochs), "--no-progress-bar", "--out", str(out), *extra)
        paths.append(out / "pretrained.pt")
    return paths


def inputs_args(data: PreparedData, model: str) -> list[str]:
    return ["train", model, "--interactions", str(data.interactions), "--genes",
            str(data.genes), "--split", str(data.split)]


def train_args(data: PreparedData, pretrained: list[Path], out: Path, epochs: int = 3,
               extra: tuple[str, ...] = ()) -> list[str]:
    return [*inputs_args(data, "dango"), "--graphs", *map(str, data.graphs),
            "--pretrained", *map(str, pretrained), "--epochs", str(epochs),
            "--no-progress-bar", "--out", str(out), *extra]


def evaluate(data: PreparedData, train_dir: Path, out: Path) -> dict:
    """``geneint evaluate`` of a model's predictions; returns metrics.json."""
    import json

    run("evaluate", "--predictions", str(train_dir / "predictions.parquet"), "--split",
        str(data.split), "--out", str(out / "metrics.json"))
    return json.loads((out / "metrics.json").read_text())
