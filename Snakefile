# geneint: raw downloads -> canonical tables -> graphs -> pretraining -> training -> report.
# The sweep (config/sweep.yaml) fans out training: one job per sweep point x seed.
# This file only wires: version floor, config, rule files, target. Logic lives in src/geneint.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/setup.smk"
include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/ontology.smk"
include: "workflow/rules/networks.smk"
include: "workflow/rules/graphs.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/perturbation.smk"


report: "workflow/report/workflow.rst"


rule all:
    input:
        get_final_outputs,
    default_target: True


# Real runs only (dry runs skip onstart): nothing is submitted with a placeholder account.
onstart:
    refuse_placeholders()
