# Stage 1: raw files (synthesised or downloaded) -> canonical tables + QC reports.

if is_synthetic():

    rule synthesize_demo:
        output:
            string=expand(
                "{dir}/string/4932.protein.links.detailed.v{release}.txt.gz",
                dir=SYNTHETIC_DIR,
                release=STRING_RELEASES,
            ),
            kuzmin2018=raw_path("kuzmin2018"),
            sgd_features=raw_path("sgd_features"),
            go_obo=raw_path("go_obo"),
            sgd_gaf=raw_path("sgd_gaf"),
            biogrid=raw_path("biogrid"),
            regulation=raw_path("regulation"),
            tflink=raw_path("tflink"),
            yeast_gem=raw_path("yeast_gem"),
            truth=f"{SYNTHETIC_DIR}/truth/tau_noise_free.tsv",
            factors=f"{SYNTHETIC_DIR}/truth/gene_factors.tsv",
            manifest=f"{SYNTHETIC_DIR}/manifest.json",
        log:
            "logs/data/synthesize_demo.log",
        benchmark:
            "benchmarks/data/synthesize_demo.tsv"
        params:
            out=folder_of("manifest"),
            settings=section_flags("data.synthetic"),
        resources:
            mem_mb=4000,
            runtime=15,
        conda:
            "../../envs/geneint.yaml"
        shell:
            "geneint synth --out {params.out} {params.settings} > {log} 2>&1"

else:

    rule download_source:
        output:
            "data/raw/{source}/{filename}",
        log:
            "logs/data/download_{source}_{filename}.log",
        params:
            flags=download_flags,
        resources:
            mem_mb=1000,
            runtime=120,
        conda:
            "../../envs/geneint.yaml"
        shell:
            "geneint download --name {wildcards.source} {params.flags}"
            " --out {output} > {log} 2>&1"


if NETWORK_SOURCE == "dango":

    # The DANGO repository's networks: STRING v9.1 channels as Mashup processed them.
    rule parse_dango_networks:
        input:
            unpack(get_dango_networks),
        output:
            f"{PROCESSED}/string/v9.1.parquet",
        log:
            f"logs/{RUN}/data/parse_dango_networks.log",
        params:
            adjacency=dango_adjacency_flags,
        resources:
            mem_mb=4000,
            runtime=15,
        conda:
            "../../envs/geneint.yaml"
        shell:
            "geneint parse dango-networks --genes {input.genes} --adjacency {params.adjacency}"
            " --out {output} > {log} 2>&1"

else:

    rule parse_string:
        input:
            get_raw_string,
        output:
            f"{PROCESSED}/string/v{{release}}.parquet",
        log:
            f"logs/{RUN}/data/parse_string_v{{release}}.log",
        benchmark:
            f"benchmarks/{RUN}/data/parse_string_v{{release}}.tsv"
        resources:
            mem_mb=6000,
            runtime=30,
        conda:
            "../../envs/geneint.yaml"
        shell:
            "geneint parse string --raw {input} --out {output} > {log} 2>&1"


rule build_gene_index:
    input:
        unpack(get_gene_index_inputs),
    output:
        f"{PROCESSED}/genes.tsv",
    log:
        f"logs/{RUN}/data/build_gene_index.log",
    params:
        flags=gene_index_flags,
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint genes {params.flags} --out {output} > {log} 2>&1"


rule parse_interactions:
    input:
        unpack(get_raw_interaction_tables),
        unpack(get_truth),
        genes=rules.build_gene_index.output[0],
    output:
        f"{PROCESSED}/interactions.parquet",
    log:
        f"logs/{RUN}/data/parse_interactions.log",
    benchmark:
        f"benchmarks/{RUN}/data/parse_interactions.tsv"
    params:
        sources=interaction_flags,
        settings=section_flags("interactions"),
    resources:
        mem_mb=6000,
        runtime=30,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint parse interactions {params.sources} --genes {input.genes}"
        " {params.settings} --out {output} > {log} 2>&1"
