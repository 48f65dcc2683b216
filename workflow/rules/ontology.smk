# Stage 2b: the ontology DCell runs over (built only when a sweep point's model needs it).
# GO (go-basic.obo + the SGD GAF) is filtered as TorchCell documents (IGI annotations, terms
# equal to a parent, terms under ontology.min_genes genes); a DCell topology file (the DCell
# authors' own ontologies) is used as is, restricted to the gene index. Stage counts go to
# ontology.json.qc.json beside it.


rule parse_ontology:
    input:
        unpack(get_ontology_sources),
        genes=rules.build_gene_index.output[0],
    output:
        f"{PROCESSED}/ontology.json",
    log:
        f"logs/{RUN}/data/parse_ontology.log",
    params:
        sources=ontology_source_flags,
        settings=section_flags("ontology"),
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint parse ontology {params.sources} --genes {input.genes} {params.settings}"
        " --out {output} > {log} 2>&1"
