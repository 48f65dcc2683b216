# Stage 2c: gene-gene networks other than STRING (BioGRID physical/genetic, YEASTRACT
# regulatory, TFLink) and the metabolic model, each parsed into canonical tables only when a
# sweep point's graph set names it. QC reports (rows read, unknown genes, self-loops, non-yeast
# rows, GPR genes outside the gene index) go beside the outputs.


rule parse_network_source:
    input:
        unpack(get_gene_names_source),
        raw=lambda wildcards: raw_path(wildcards.network_source),
        genes=rules.build_gene_index.output[0],
    output:
        f"{PROCESSED}/networks/{{network_source}}.parquet",
    log:
        f"logs/{RUN}/data/parse_network_{{network_source}}.log",
    wildcard_constraints:
        network_source="biogrid|regulation|tflink",
    params:
        names=lambda wildcards, input: (
            f"--sgd-features {input.sgd}" if "sgd" in input.keys() else ""
        ),
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint parse network --source {wildcards.network_source} --raw {input.raw}"
        " --genes {input.genes} {params.names} --out {output} > {log} 2>&1"


rule parse_metabolism:
    input:
        gem=lambda wildcards: raw_path("yeast_gem"),
        genes=rules.build_gene_index.output[0],
    output:
        *METABOLISM_TABLES,
        f"{PROCESSED}/metabolism/gene_pairs.parquet",
        f"{PROCESSED}/metabolism/model.json",
    log:
        f"logs/{RUN}/data/parse_metabolism.log",
    params:
        out=folder_of(0),
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint parse metabolism --gem {input.gem} --genes {input.genes} --out {params.out}"
        " > {log} 2>&1"


# FBA: the growth of every deletion the interaction sets need, split into config fba.chunks
# jobs (each solves its share once); `geneint train fba` combines them into τ.
rule fba_growth:
    input:
        interactions=rules.parse_interactions.output[0],
        model=f"{PROCESSED}/metabolism/model.json",
    output:
        f"{PROCESSED}/fba/growth_{{chunk}}of{{chunks}}.parquet",
    log:
        f"logs/{RUN}/fba/growth_{{chunk}}of{{chunks}}.log",
    wildcard_constraints:
        chunk=r"\d+",
        chunks=r"\d+",
    params:
        model_dir=lambda wildcards, input: os.path.dirname(input.model),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint fba growth --interactions {input.interactions} --model {params.model_dir}"
        " --chunk {wildcards.chunk} --chunks {wildcards.chunks} --out {output} > {log} 2>&1"
