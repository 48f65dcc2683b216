# Input/params helpers of the rules, and the orphaned-results check of the default target
# (names from setup.smk).
import base64
import glob
from types import SimpleNamespace


# --- data helpers ----------------------------------------------------------------------------
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
        return f"{SYNTHETIC_DIR}/{subdir}/{SYNTHETIC_FILENAMES.get(name, RAW_FILENAMES[name])}"
    return f"data/raw/{name}/{RAW_FILENAMES[name]}"


def get_raw_string(wildcards):
    return raw_path(f"string_v{wildcards.release}")


def get_network_edges(wildcards):
    """The canonical table(s) a network's graph is built from: every STRING release (the λ
    rule compares them), or the network's own source table."""
    if graph_sets.is_string_network(wildcards.network):
        return expand(f"{PROCESSED}/string/v{{release}}.parquet", release=STRING_RELEASES)
    return network_table(wildcards.network)


def network_table(network):
    source = graph_sets.NETWORK_SOURCES[network]
    if source == "yeast_gem":
        return f"{PROCESSED}/metabolism/gene_pairs.parquet"
    return f"{PROCESSED}/networks/{source}.parquet"


def network_release_flag(wildcards):
    if graph_sets.is_string_network(wildcards.network):
        return "--releases " + " ".join(STRING_RELEASES)
    return ""


def get_dango_networks(wildcards):
    return {"genes": raw_path("dango_genes"), **{c: raw_path(f"dango_{c}") for c in CHANNELS}}


def dango_adjacency_flags(wildcards, input):
    return " ".join(f"{c}={input[c]}" for c in CHANNELS)


def get_gene_index_inputs(wildcards):
    """The files the configured gene universe is built from."""
    universe = config["genes"]["universe"]
    inputs = {}
    if universe in ("sgd", "intersection", "union"):
        inputs["sgd"] = raw_path("sgd_features")
    if universe in ("string", "intersection", "union"):
        inputs["string"] = expand(f"{PROCESSED}/string/v{{r}}.parquet", r=STRING_RELEASES)
    if universe == "network_genes":
        if NETWORK_SOURCE != "dango":
            raise ValueError("genes.universe network_genes needs data.network_source dango")
        inputs["gene_list"] = raw_path("dango_genes")
    return inputs


def gene_index_flags(wildcards, input):
    flags = [f"--universe {config['genes']['universe']}"]
    for key, flag in (("sgd", "--sgd"), ("string", "--string"), ("gene_list", "--gene-list")):
        if key in input.keys():
            flags.append(f"{flag} {' '.join(input[key]) if key == 'string' else input[key]}")
    qualifiers = config["genes"]["sgd_qualifiers"]
    if qualifiers:
        flags.append(f"--sgd-qualifiers {' '.join(qualifiers)}")
    return " ".join(flags)


def get_gene_names_source(wildcards):
    """SGD_features.tab, when the run has it: standard gene names in the prediction tables."""
    if is_synthetic() or "sgd_features" in config["data"]["downloads"]:
        return {"sgd": raw_path("sgd_features")}
    return {}


def gene_names_flag(wildcards, input):
    return f"--sgd-features {input.sgd}" if "sgd" in input.keys() else ""


def get_ontology_sources(wildcards):
    """The raw files of the ontology: GO's OBO and GAF, or a DCell topology file."""
    if config["data"]["ontology_source"] == "dcell_topology":
        return {"topology": raw_path("dcell_topology")}
    return {"obo": raw_path("go_obo"), "gaf": raw_path("sgd_gaf")}


def ontology_source_flags(wildcards, input):
    keys = [key for key in ("obo", "gaf", "topology") if key in input.keys()]
    return " ".join(f"--{key} {input[key]}" for key in keys)


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
        groups.setdefault(INTERACTION_FLAGS[name], []).append(input[name])
    flags = [f"{flag} {' '.join(paths)}" for flag, paths in groups.items()]
    if "truth" in input.keys():
        flags.append(f"--truth {input.truth}")
    return " ".join(flags)


def download_flags(wildcards):
    """`geneint download` flags from config data.downloads.<source>."""
    return download_spec_flags(config["data"]["downloads"], wildcards.source, "data.downloads")


def download_spec_flags(downloads, name, where):
    """`geneint download` flags of one entry of a downloads mapping (``where`` names it)."""
    if name not in downloads:
        raise ValueError(f"config has no {where}.{name}; configured: {sorted(downloads)}")
    spec = downloads[name]
    flags = [f"--url '{spec['url']}'"]
    for key in ("sha256", "extract", "local"):
        if spec.get(key):
            flags.append(f"--{key} '{spec[key]}'")
    if config["data"]["allow_unpinned"]:
        flags.append("--allow-unpinned")
    return " ".join(flags)


def section_flags(dotted):
    """Params text of a config section: `--key value` for each of its keys (`--key` or
    `--no-key` for a boolean)."""
    return " ".join(
        f"--{'' if value else 'no-'}{key.replace('_', '-')}"
        if isinstance(value, bool)
        else f"--{key.replace('_', '-')} {sweeps.flag_value(value)}"
        for key, value in sweeps.lookup(config, dotted).items()
    )


def lambda_config_flag(wildcards):
    values = config["graphs"]["lambda"]
    return "--lambda-config " + " ".join(f"{k}={v}" for k, v in values.items()) if values else ""


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


# --- sweep point helpers -------------------------------------------------------------------
def point_of(wildcards):
    return sweeps.parse_point(wildcards.point)


def split_file_of(point):
    kind, _ = sweeps.split_kind_and_fold(point["split"])
    return f"{PROCESSED}/splits/{kind}.parquet"


def get_split_file(wildcards):
    return split_file_of(point_of(wildcards))


def split_fold(wildcards):
    return sweeps.split_kind_and_fold(point_of(wildcards)["split"])[1]


def graph_files(point, lambda_mode):
    """The `.npz` of every network of a point, built with one λ mode."""
    return expand(
        f"{PROCESSED}/graphs/lambda~{{mode}}/{{network}}.npz",
        mode=lambda_mode,
        network=sweeps.point_networks(point, CHANNELS),
    )


def pretraining_outputs(point, name):
    """`pretrained.pt` or `embeddings.pt` of every network of a point."""
    pretraining = sweeps.pretraining_of(point)
    return expand(
        "results/{run}/pretrain/variant~{variant}/dim~{dim}/lambda~{lambda_mode}/{network}/{name}",
        run=RUN,
        variant=pretraining["variant"],
        dim=pretraining["dim"],
        lambda_mode=pretraining["lambda_mode"],
        network=sweeps.point_networks(point, CHANNELS),
        name=name,
    )


def get_model_inputs(wildcards):
    """What the point's model needs, and nothing else (registry `needs`, `needs_when`)."""
    point = point_of(wildcards)
    needs = sweeps.point_needs(point)
    inputs = {}
    if "graphs" in needs:
        inputs["graphs"] = graph_files(point, sweeps.graph_lambda_mode(point))
    if "pretrained" in needs:
        inputs["pretrained"] = pretraining_outputs(point, "pretrained.pt")
    if "embeddings" in needs:
        inputs["embeddings"] = pretraining_outputs(point, "embeddings.pt")
    if "ontology" in needs:
        inputs["ontology"] = [f"{PROCESSED}/ontology.json"]
    if "metabolism" in needs and graph_sets.has_metabolism(point["graphs"]):
        inputs["metabolism"] = METABOLISM_TABLES
    if "fba_growth" in needs:
        inputs["growth"] = fba_growth_files()
    return inputs


def model_input_flags(wildcards, input):
    flags = [
        f"--{key} {' '.join(input[key])}"
        for key in ("graphs", "pretrained", "embeddings", "ontology", "growth")
        if key in input.keys()
    ]
    if "metabolism" in input.keys():
        flags.append(f"--metabolism {os.path.dirname(input.metabolism[0])}")
    return " ".join(flags)


def fba_growth_files():
    """The deletion growth tables, one per chunk (config fba.chunks)."""
    chunks = config["fba"]["chunks"]
    return [f"{PROCESSED}/fba/growth_{k}of{chunks}.parquet" for k in range(1, chunks + 1)]


def model_name(wildcards):
    return point_of(wildcards)["model"]


def model_flags(wildcards):
    """The point's own knobs and the config settings its model uses (and only those)."""
    return sweeps.model_flags(point_of(wildcards), config)


def get_intermediate_outputs():
    """Every canonical table and graph the sweep reads, with the files built from it."""
    built_from = {
        f"{PROCESSED}/genes.tsv": [f"{PROCESSED}/interactions.parquet"],
        f"{PROCESSED}/interactions.parquet": [f"{PROCESSED}/splits/*.parquet"],
    }
    for point in POINTS:
        predictions = f"results/{RUN}/train/{sweeps.point_path(point)}/seed*/predictions.parquet"
        built_from.setdefault(split_file_of(point), []).append(predictions)
        needs = sweeps.point_needs(point)
        if "ontology" in needs:
            built_from.setdefault(f"{PROCESSED}/ontology.json", []).append(predictions)
        modes = set()
        if "graphs" in needs:
            modes.add(sweeps.graph_lambda_mode(point))
        if needs & {"pretrained", "embeddings"}:
            modes.add(sweeps.pretraining_of(point)["lambda_mode"])
        for mode in modes:
            for graph in graph_files(point, mode):
                network = Path(graph).stem
                built_from.setdefault(graph, []).extend(
                    [predictions, f"results/{RUN}/pretrain/*/*/lambda~{mode}/{network}/*.pt"]
                )
                if not graph_sets.is_string_network(network):
                    built_from.setdefault(network_table(network), []).append(
                        f"{PROCESSED}/graphs/*/{network}.npz"
                    )
            for release in STRING_RELEASES:
                edges = f"{PROCESSED}/string/v{release}.parquet"
                built_from.setdefault(edges, []).append(f"{PROCESSED}/graphs/*/*.npz")
        inputs = get_model_inputs(SimpleNamespace(point=sweeps.point_path(point)))
        for table in inputs.get("metabolism", []):
            built_from.setdefault(table, []).append(predictions)
        for growth in inputs.get("growth", []):
            built_from.setdefault(growth, []).append(predictions)
    return built_from


def was_built_before(path):
    """Snakemake has a record of making ``path`` (its metadata file, kept after a failure).

    A file that is missing because it is new (a channel or release added to the config) has
    none, and is simply built. The record's path follows Snakemake's file persistence (base64
    of the path, split at the file-name limit): its `workflow.persistence` is not set up yet
    when the default target is evaluated."""
    metadata = os.path.join(".snakemake", "metadata")
    if not os.path.isdir(metadata):
        return False
    max_len = os.pathconf(metadata, "PC_NAME_MAX") or 255
    encoded = base64.urlsafe_b64encode(path.encode()).decode()
    parts = [encoded[i : i + max_len - 1] for i in range(0, len(encoded), max_len - 1)]
    parts = [f"@{part}" for part in parts[:-1]] + parts[-1:]
    return os.path.exists(os.path.join(metadata, *parts))


def check_no_orphaned_results():
    """Refuse to run while an intermediate is missing but results built from it exist.

    Snakemake treats a missing intermediate as fine while its consumers exist, so a run after
    a failed parse would end green over results built from the old file; rebuilding it within
    the same run would rerun every consumer, even when it comes out identical. So: rebuild it
    alone (its consumers are then stale only if its content changed), then run as usual."""
    orphaned = {}
    for intermediate, consumers in get_intermediate_outputs().items():
        if os.path.exists(intermediate) or not was_built_before(intermediate):
            continue
        built = sorted({f for pattern in consumers for f in glob.glob(pattern)})
        if built:
            orphaned[intermediate] = built
    if orphaned:
        lines = [
            f"  {path} (built from it: {built[0]}"
            + (f" and {len(built) - 1} more)" if len(built) > 1 else ")")
            for path, built in sorted(orphaned.items())
        ]
        fail(
            "missing intermediate files whose results exist (a failed or interrupted rebuild?):\n"
            + "\n".join(lines)
            + "\nRebuild them alone first, e.g.\n  snakemake <your usual flags> "
            + " ".join(sorted(orphaned))
            + "\nthen run as usual: what was built from them reruns only if their content"
            " changed.",
            title="refusing to run over results built from missing files",
        )


def get_final_outputs(wildcards):
    """The default target. An input function, so the orphan check runs only when it is the
    target (a named target, such as the missing file itself, is built without it)."""
    check_no_orphaned_results()
    return [
        f"{PROCESSED}/interactions.parquet",
        f"results/{RUN}/summary.tsv",
        f"results/{RUN}/summary_by_point.tsv",
        f"results/{RUN}/plots/metrics.png",
        f"results/{RUN}/plots/models.png",
        f"results/{RUN}/plots/training_curves.png",
        *expand(
            "results/{run}/interpret/{point}/seed{seed}/term_importance.tsv",
            run=RUN,
            point=[sweeps.point_path(p) for p in POINTS if p["model"] == "dcell"],
            seed=SEEDS,
        ),
    ]


def get_all_evaluations():
    return expand(
        "results/{run}/eval/{point}/seed{seed}/metrics.json",
        run=RUN,
        point=point_paths(),
        seed=SEEDS,
    )


def get_training_curves():
    """Per-epoch curves exist for neural models only."""
    return expand(
        "results/{run}/train/{point}/seed{seed}/metrics.csv",
        run=RUN,
        point=point_paths("neural"),
        seed=SEEDS,
    )


# --- the perturbation study (names from perturbation.smk) ---------------------------------
def sc_raw_inputs(wildcards):
    """The raw files of the configured data set (none for krumsiek11: scanpy ships it)."""
    if SC_DATASET == "synthetic":
        return {"raw": f"{SC_RAW_DIR}/synthetic/cells.h5ad"}
    if SC_DATASET == "krumsiek11":
        return {}
    inputs = {"raw": f"{SC_RAW_DIR}/{SC_DATASET}/{SC_RAW_FILENAMES[SC_DATASET]}"}
    if PERTURBATION["preprocess"]["strong_perturbations"]:
        inputs["summary"] = f"{SC_RAW_DIR}/replogle_summary/{SC_RAW_FILENAMES['replogle_summary']}"
    return inputs


def sc_raw_flags(wildcards, input):
    return " ".join(f"--{key} {path}" for key, path in input.items() if key in ("raw", "summary"))


def sc_true_graph(wildcards):
    return {"truth": f"{SC_RAW_DIR}/synthetic/true_graph.tsv"} if SC_DATASET == "synthetic" else {}


def sc_true_graph_flag(wildcards, input):
    return f"--true-graph {input.truth}" if "truth" in input.keys() else ""


def sc_section_flags(*keys):
    """CLI flags of `perturbation` config keys: a section gives one flag per key."""
    return " ".join(
        section_flags(f"perturbation.{key}")
        if isinstance(PERTURBATION[key], dict)
        else f"--{key} {sweeps.flag_value(PERTURBATION[key])}"
        for key in keys
    )


def sc_all_metrics():
    return expand(
        f"{SC_RESULTS}/{{model}}/{{regime}}/seed{{seed}}/metrics.json",
        model=PERTURBATION["models"],
        regime=PERTURBATION["regimes"],
        seed=PERTURBATION["seeds"],
    )


# --- the perturbation study's response task (names from perturbation_response.smk) --------
def response_feature_inputs(wildcards):
    """GRAPE's gene inputs: the configured files, else the synthetic data's own."""
    configured = {k: v for k, v in RESPONSE["features"].items() if v is not None}
    if SC_DATASET == "synthetic":
        for name in ("description", "sequence", "biotypes"):
            configured.setdefault(name, f"{SC_RESPONSE_RAW}/{name}.tsv")
    return configured


def response_feature_flags(wildcards, input):
    return " ".join(
        f"--{key} {path}" for key, path in input.items() if key in ("description", "sequence",
                                                                   "biotypes")
    )


def response_all_metrics():
    """One metrics.json per model x seed; the baselines (seed-free) at the first seed only."""
    seeds = RESPONSE["seeds"]
    return [
        f"{SC_RESPONSE}/{model}/seed{seed}/metrics.json"
        for model in RESPONSE["models"]
        for seed in (seeds[:1] if model in BASELINES else seeds)
    ]
