# Stage 5: one summary table over every point x seed, plots, and the Snakemake report.

# Seconds of work on small tables: on a cluster it runs in the main process, not as a job.
localrules:
    aggregate_metrics,


rule aggregate_metrics:
    input:
        metrics=get_all_evaluations(),
        curves=get_training_curves(),
    output:
        summary=report(
            f"results/{RUN}/summary.tsv",
            category="Summary",
            caption="../report/summary.rst",
        ),
        by_point=report(
            f"results/{RUN}/summary_by_point.tsv",
            category="Summary",
            caption="../report/summary_by_point.rst",
        ),
        metrics_plot=report(
            f"results/{RUN}/plots/metrics.png",
            category="Plots",
            caption="../report/metrics.rst",
        ),
        models_plot=report(
            f"results/{RUN}/plots/models.png",
            category="Plots",
            caption="../report/models.rst",
        ),
        curves_plot=report(
            f"results/{RUN}/plots/training_curves.png",
            category="Plots",
            caption="../report/curves.rst",
        ),
    log:
        f"logs/{RUN}/aggregate.log",
    params:
        results=folder_of("summary"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint aggregate --metrics {input.metrics} --curves {input.curves}"
        " --results {params.results} > {log} 2>&1"
