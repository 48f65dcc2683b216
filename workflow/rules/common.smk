# Shared setup, in order: config validation, wildcard constraints, input/params helpers.
import os
import re

from snakemake.utils import validate


validate(config, schema="../schemas/config.schema.yaml")


PROCESSED = "data/processed"
STRING_RELEASES = [str(r) for r in config["data"]["string_releases"]]

# Published file name of every raw source (config data.downloads uses the same keys).
RAW_FILENAMES = {
    **{f"string_v{r}": f"4932.protein.links.detailed.v{r}.txt.gz" for r in STRING_RELEASES},
    "kuzmin2018": "aao1729_data_s1.tsv",
    "kuzmin2020_s1": "aaz5667-Table-S1.xlsx",
    "kuzmin2020_s3": "aaz5667-Table-S3.xlsx",
    "sgd_features": "SGD_features.tab",
}
# The synthetic demo writes the same published formats into its own folder.
SYNTHETIC_DIR = "data/raw/synthetic"
SYNTHETIC_SUBDIRS = {"kuzmin2018": "kuzmin2018", "sgd_features": "sgd"}


wildcard_constraints:
    release="|".join(re.escape(r) for r in STRING_RELEASES),
    source="|".join(re.escape(s) for s in RAW_FILENAMES),


def folder_of(output_key):
    """Params function: the folder of one of the rule's outputs (a prefix the CLI writes to)."""

    def folder(wildcards, output):
        return os.path.dirname(output[output_key])

    return folder


def is_synthetic():
    return config["data"]["source"] == "synthetic"


def raw_path(name):
    """Path of one raw source, e.g. raw_path("string_v9.1")."""
    if name not in RAW_FILENAMES:
        raise ValueError(f"unknown raw source {name!r}; known: {sorted(RAW_FILENAMES)}")
    if is_synthetic():
        subdir = "string" if name.startswith("string_v") else SYNTHETIC_SUBDIRS.get(name)
        if subdir is None:
            raise ValueError(f"the synthetic demo has no {name!r}; use kuzmin2018")
        return f"{SYNTHETIC_DIR}/{subdir}/{RAW_FILENAMES[name]}"
    return f"data/raw/{name}/{RAW_FILENAMES[name]}"


def get_raw_string(wildcards):
    return raw_path(f"string_v{wildcards.release}")


def get_raw_interaction_tables(wildcards):
    """Raw tables that feed interactions.parquet, keyed by source name."""
    return {name: raw_path(name) for name in config["data"]["interaction_sources"]}


def get_truth(wildcards):
    """Noise-free τ exists only for synthetic data (it gives the oracle Pearson)."""
    return {"truth": f"{SYNTHETIC_DIR}/truth/tau_noise_free.tsv"} if is_synthetic() else {}


def interaction_flags(wildcards, input):
    """Reader flags for `geneint parse interactions` (kuzmin2020 S1 and S3 share one flag)."""
    groups = {}
    for name in config["data"]["interaction_sources"]:
        groups.setdefault(name.split("_")[0], []).append(input[name])
    flags = [f"--{reader} {' '.join(paths)}" for reader, paths in groups.items()]
    if "truth" in input.keys():
        flags.append(f"--truth {input.truth}")
    return " ".join(flags)


def download_flags(wildcards):
    """`geneint download` flags from config data.downloads.<source>."""
    downloads = config["data"]["downloads"]
    if wildcards.source not in downloads:
        raise ValueError(
            f"config has no data.downloads.{wildcards.source}; configured: {sorted(downloads)}"
        )
    spec = downloads[wildcards.source]
    flags = [f"--url '{spec['url']}'"]
    for key in ("sha256", "extract", "local"):
        if spec.get(key):
            flags.append(f"--{key} '{spec[key]}'")
    if config["data"]["allow_unpinned"]:
        flags.append("--allow-unpinned")
    return " ".join(flags)


def sgd_qualifier_flag(wildcards):
    qualifiers = config["genes"]["sgd_qualifiers"]
    return f"--sgd-qualifiers {' '.join(qualifiers)}" if qualifiers else ""


def get_final_outputs():
    return [
        f"{PROCESSED}/interactions.parquet",
        f"results/{RUN}/summary.tsv",
        f"results/{RUN}/summary_by_point.tsv",
        f"results/{RUN}/plots/metrics.png",
        f"results/{RUN}/plots/training_curves.png",
    ]


def warn_unpinned_downloads():
    """Say at parse time which downloads will be refused for lack of a pinned sha256."""
    if is_synthetic():
        return
    unpinned = [
        name for name, spec in config["data"]["downloads"].items() if not spec.get("sha256")
    ]
    if unpinned and not config["data"]["allow_unpinned"]:
        logger.warning(
            f"downloads without a pinned sha256 will be refused: {', '.join(sorted(unpinned))}."
            " Pin them in the config, or set data.allow_unpinned: true once to learn their hashes."
        )


warn_unpinned_downloads()


# --- sweep ---------------------------------------------------------------------------------
import itertools

import pandas as pd
import yaml
from snakemake.utils import Paramspace

RUN = config["run"]
with open(config["sweep"]) as fh:
    SWEEP = yaml.safe_load(fh)
validate(SWEEP, schema="../schemas/sweep.schema.yaml")
SEEDS = [str(s) for s in SWEEP["seeds"]]
CHANNELS = config["graphs"]["channels"]
for release in SWEEP["grid"]["graphs"]:
    if release[1:] not in STRING_RELEASES:
        raise ValueError(
            f"sweep grid graphs: {release} is not among data.string_releases {STRING_RELEASES}"
        )
# One row per sweep point; every column is a path component (key~value), so values can hold
# underscores and adding a value adds only new paths.
POINTS = Paramspace(
    pd.DataFrame(
        list(itertools.product(*SWEEP["grid"].values())), columns=list(SWEEP["grid"])
    ).astype(str)
)


# Swept values are path components: none may match across "/".
wildcard_constraints:
    run=re.escape(RUN),
    seed=r"\d+",
    network=r"string_v[0-9.]+_[a-z]+",
    graphs=r"v[0-9.]+",
    variant="spec|original",
    dim=r"\d+",
    lambda_mode="rule|config|one",
    alpha_schedule="constant|linear_until_uniform|pre_then_post",
    lr=r"[0-9.eE+-]+",
    split=r"random\d+|gene1|gene2",
    kind="random|gene1|gene2",


def point_networks(wildcards):
    return [f"string_{wildcards.graphs}_{channel}" for channel in CHANNELS]


def get_point_graphs(wildcards):
    return expand(
        "data/processed/graphs/lambda~{lambda_mode}/{network}.npz",
        lambda_mode=wildcards.lambda_mode,
        network=point_networks(wildcards),
    )


def get_point_pretrained(wildcards):
    return expand(
        "results/{run}/pretrain/variant~{variant}/dim~{dim}/lambda~{lambda_mode}/{network}/pretrained.pt",
        run=RUN,
        variant=wildcards.variant,
        dim=wildcards.dim,
        lambda_mode=wildcards.lambda_mode,
        network=point_networks(wildcards),
    )


def get_split_file(wildcards):
    kind = "random" if wildcards.split.startswith("random") else wildcards.split
    return f"data/processed/splits/{kind}.parquet"


def split_fold(wildcards):
    return wildcards.split[len("random") :] if wildcards.split.startswith("random") else "0"


def lambda_config_flag(wildcards):
    values = config["graphs"]["lambda"]
    return "--lambda-config " + " ".join(f"{k}={v}" for k, v in values.items()) if values else ""


def get_all_evaluations():
    return expand(
        "results/{run}/eval/{point}/seed{seed}/metrics.json",
        run=RUN,
        point=POINTS.instance_patterns,
        seed=SEEDS,
    )


def get_training_curves():
    return expand(
        "results/{run}/train/{point}/seed{seed}/metrics.csv",
        run=RUN,
        point=POINTS.instance_patterns,
        seed=SEEDS,
    )
