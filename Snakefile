# geneint: raw downloads -> canonical tables -> graphs -> pretraining -> training -> report.
# This file only wires: version floor, config, rule files, target. Logic lives in src/geneint.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"


rule all:
    input:
        get_final_outputs(),
    default_target: True
