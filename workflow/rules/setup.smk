# Setup, in order: config validation (errors name the user's file and key), launch-setting
# placeholders, the run's constants, the sweep, wildcard constraints. Decisions that deserve a
# test live in geneint (geneint.sweep, geneint.schema, geneint.config_errors).
import os
import re
import sys
from pathlib import Path

import yaml
from snakemake.utils import validate

# geneint's schemas and sweep helpers need only yaml: importable from the checkout even where
# Snakemake's own environment lacks the package.
sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from geneint import sweep as sweeps  # noqa: E402
from geneint.graphs import sets as graph_sets  # noqa: E402
from geneint.models.registry import MODELS, models_run_by  # noqa: E402
from geneint.config_errors import ConfigError, check_against_schema, source_of  # noqa: E402
from geneint.schema import (  # noqa: E402
    CONFIG_SCHEMA,
    SWEEP_SCHEMA,
    coerce_numbers,
    config_schema,
    flag_value,
    model_axes,
    sweep_schema,
)


def display_path(path):
    path = Path(path)
    return os.path.relpath(path) if path.is_absolute() else str(path)


def load_yaml(path):
    with open(path) as fh:
        return yaml.safe_load(fh) or {}


def fail(message, title="configuration error"):
    """Stop before any job with the problem alone (no traceback into this rule file)."""
    raise SystemExit(f"geneint: {title}\n{message}")


# Where each config key can come from, highest precedence first: --config, the --configfile
# files (the last wins), then config/config.yaml. Errors name the file that set the bad key.
CONFIG_SOURCES = [
    ("--config", dict(workflow.config_settings.config)),
    *[(display_path(f), load_yaml(f)) for f in reversed(workflow.config_settings.configfiles)],
    ("config/config.yaml", load_yaml(Path(workflow.basedir) / "config" / "config.yaml")),
]
# YAML 1.1 reads 1e-3 as a string: numbers where the schema wants numbers, before validation.
config.update(coerce_numbers(config, config_schema(), config_schema()))
try:
    check_against_schema(config, config_schema(), CONFIG_SOURCES)
except ConfigError as err:
    fail(err)
validate(config, schema=str(CONFIG_SCHEMA))  # fills in the schema's defaults


def profile_placeholders():
    """Launch settings (default-resources, set-resources) still holding a CHANGE-ME value."""
    settings = workflow.resource_settings
    sections = {"default-resources": settings.default_resources or {}}
    sections.update({f"set-resources {r}": v for r, v in settings.overwrite_resources.items()})
    return [
        f"{where}: {key}"
        for where, resources in sections.items()
        for key, value in resources.items()
        if "CHANGE-ME" in str(getattr(value, "raw", value))
    ]


# The profile's resources are fixed once Snakemake has parsed its arguments: look once.
PLACEHOLDERS = profile_placeholders()
PLACEHOLDER_MESSAGE = (
    f"the profile still has placeholders ({'; '.join(PLACEHOLDERS)}): set them in its"
    " __variables__ block (profiles/slurm/config.yaml: account is your allocation, or null for"
    " none)"
)
if PLACEHOLDERS:
    logger.warning(f"{PLACEHOLDER_MESSAGE}. Dry runs go ahead; a run refuses to start.")


def refuse_placeholders():
    """Called when a real run starts (the Snakefile's onstart; dry runs skip it)."""
    if PLACEHOLDERS:
        fail(PLACEHOLDER_MESSAGE)



RUN = config["run"]
# Per run: the demo and a real study never overwrite each other's tables.
PROCESSED = f"data/processed/{RUN}"
STRING_RELEASES = [str(r) for r in config["data"]["string_releases"]]
NETWORK_SOURCE = config["data"]["network_source"]
CHANNELS = config["graphs"]["channels"]
if NETWORK_SOURCE == "dango" and STRING_RELEASES != ["9.1"]:
    fail(
        f"{source_of(('data', 'network_source'), CONFIG_SOURCES)}: data.network_source dango"
        f' ships STRING v9.1 only; set data.string_releases to ["9.1"] (found'
        f" {STRING_RELEASES})"
    )

# File name of every raw source (config data.downloads uses the same keys); each is stored as
# published, under data/raw/<source>/.
RAW_FILENAMES = {
    **{f"string_v{r}": f"4932.protein.links.detailed.v{r}.txt.gz" for r in STRING_RELEASES},
    "kuzmin2018": "aao1729_data_s1.tsv",
    "kuzmin2020_s1": "aaz5667-Table-S1.xlsx",
    "kuzmin2020_s3": "aaz5667-Table-S3.xlsx",
    "sgd_features": "SGD_features.tab",
    "dcell_train": "training_data.txt",
    "dcell_test": "testing_data.txt",
    "dango_genes": "yeast_string_genes.txt",
    "go_obo": "go-basic.obo",
    "sgd_gaf": "sgd.gaf.gz",
    "dcell_topology": "topology.txt",
    "biogrid": "BIOGRID-ORGANISM-Saccharomyces_cerevisiae_S288c-4.4.240.tab3.txt",
    "regulation": "RegulationTwoColumnTable_Documented_2013927.tsv.gz",
    "tflink": "TFLink_Saccharomyces_cerevisiae_interactions_All_simpleFormat_v1.0.tsv",
    # Yeast-GEM's YAML export (cobrapy reads it; the repository publishes it beside the SBML).
    "yeast_gem": "yeast-GEM.yml",
    **{f"dango_{c}": f"yeast_string_{c}_adjacency.txt" for c in CHANNELS},
}
# `geneint parse interactions` flag of each interaction source.
INTERACTION_FLAGS = {
    "kuzmin2018": "--kuzmin2018",
    "kuzmin2020_s1": "--kuzmin2020",
    "kuzmin2020_s3": "--kuzmin2020",
    "dcell_train": "--dcell-train",
    "dcell_test": "--dcell-test",
}
# The synthetic demo writes the same published formats into its own folder.
SYNTHETIC_DIR = "data/raw/synthetic"
SYNTHETIC_SUBDIRS = {
    "kuzmin2018": "kuzmin2018",
    "sgd_features": "sgd",
    "go_obo": "go",
    "sgd_gaf": "go",
    "biogrid": "biogrid",
    "regulation": "regulation",
    "tflink": "tflink",
    "yeast_gem": "yeast_gem",
}
# Where the demo's file name differs from the download's: its GEM is SBML, written by cobrapy.
SYNTHETIC_FILENAMES = {"yeast_gem": "yeast-GEM.xml"}
# The metabolism stage's relation tables (multigraph reads the folder).
METABOLISM_TABLES = [
    f"{PROCESSED}/metabolism/gene_reaction.parquet",
    f"{PROCESSED}/metabolism/reaction_metabolite.parquet",
]

# --- the sweep -------------------------------------------------------------------------------
SWEEP_FILE = display_path(config["sweep"])
SWEEP = coerce_numbers(load_yaml(config["sweep"]), sweep_schema(), sweep_schema())
try:
    check_against_schema(SWEEP, sweep_schema(), [(SWEEP_FILE, SWEEP)])
    validate(SWEEP, schema=str(SWEEP_SCHEMA))  # fills in the schema's defaults
    sweeps.check_models_known()
    POINTS, SEEDS = sweeps.expand_sweep(SWEEP)
except ValueError as err:
    fail(f"{SWEEP_FILE}: {err}" if not isinstance(err, ConfigError) else err)
for point in POINTS:
    if "graphs" not in point:
        continue
    missing = [r for r in graph_sets.string_releases(point["graphs"]) if r not in STRING_RELEASES]
    if missing:
        fail(
            f"{SWEEP_FILE}: {point['model']} uses graphs {point['graphs']}, whose STRING"
            f" release {', '.join(missing)} is not among data.string_releases {STRING_RELEASES}"
            f" ({source_of(('data', 'string_releases'), CONFIG_SOURCES)})"
        )
    undownloadable = [
        source
        for source in graph_sets.raw_sources(point["graphs"])
        if config["data"]["source"] != "synthetic" and source not in config["data"]["downloads"]
    ]
    if undownloadable:
        fail(
            f"{SWEEP_FILE}: {point['model']} uses graphs {point['graphs']}, which need"
            f" data.downloads.{' and data.downloads.'.join(undownloadable)} (a url, or a local:"
            " copy); the config has none"
        )


def point_paths(runner=None):
    """Path of every sweep point (of one runner's models, if given)."""
    return [
        sweeps.point_path(p)
        for p in POINTS
        if runner is None or MODELS[p["model"]].runner == runner
    ]


# Swept values are path components: none may match across "/".
wildcard_constraints:
    run=re.escape(RUN),
    seed=r"\d+",
    point=sweeps.point_pattern(list(MODELS)),
    network=r"string_v[0-9.]+_[a-z]+|" + "|".join(graph_sets.NETWORK_SOURCES),
    variant="|".join(model_axes("dango")["variant"]["items"]["enum"]),
    dim=r"\d+",
    lambda_mode="|".join(model_axes("dango")["lambda_mode"]["items"]["enum"]),
    kind="random|gene1|gene2|published",
    release="|".join(re.escape(r) for r in STRING_RELEASES),
    source="|".join(re.escape(s) for s in RAW_FILENAMES),
