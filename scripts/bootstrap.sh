#!/usr/bin/env bash
# Set up a virtualenv in .venv (idempotent) and run one of the project's entry points.
#   bash scripts/bootstrap.sh demo   # the main job on the embedded demo data
#   bash scripts/bootstrap.sh test   # the test suite
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${GENEINT_VENV:-.venv}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"

stamp="$VENV/.geneint-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$0" -nt "$stamp" ]; then
    python -m pip install --quiet --upgrade pip
    # torch first, pinned: on CPU-only machines this takes the CPU build; installed later as a
    # dependency of torch-geometric/lightning, pip could pull a multi-GB CUDA build instead.
    python -m pip install --quiet "torch==2.13.0"
    python -m pip install --quiet -e ".[test]"
    # cobrapy (the metabolic model: parse metabolism, FBA) declares pandas<3, although what
    # geneint uses of it runs on pandas 3 (tests/unit/test_fba.py): install it without its
    # dependencies, so pip keeps geneint's pandas, then the dependencies it does need.
    python -m pip install --quiet --no-deps "cobra==0.32.1"
    python -m pip install --quiet "optlang>=1.8" swiglpk "python-libsbml>=5.20" depinfo \
        httpx rich "ruamel.yaml>=0.16" appdirs future "pydantic>=1.6"
    # The single-cell study: anndata declares pandas<3 too, and runs on pandas 3 once nullable
    # strings may be written (geneint.data.single_cell turns that on). Same route as cobrapy.
    python -m pip install --quiet --no-deps "anndata==0.12.19" "scanpy==1.11.5"
    python -m pip install --quiet "array-api-compat>=1.7.1" "h5py>=3.8" legacy-api-wrap natsort \
        "scverse-misc>=0.0.3" "zarr>=2.18.7,!=3.0.*" joblib "numba>=0.57.1" patsy \
        "pynndescent>=0.5.13" "seaborn>=0.13.2" session-info2 "statsmodels>=0.14.5" tqdm \
        "umap-learn>=0.5.6"
    # causalbench: its ChIP-seq ground truth (inside the wheel) and its evaluator, the test
    # oracle of ours; it declares a heavy, old stack (cdt, arboreto, black pins) nothing here uses.
    python -m pip install --quiet --no-deps "causalbench==1.1.2"
    # cell-gears: GEARS' own metrics, DE rankings and split, the test oracle of the response
    # task (its downloads are never called); dcor is its distance correlation (and ours' check).
    python -m pip install --quiet --no-deps "cell-gears==0.1.2"
    python -m pip install --quiet "dcor>=0.6"
    touch "$stamp"
fi

case "${1:-}" in
    demo)
        shift
        # The whole DAG on the synthetic demo data (config/config.yaml), 2 cores.
        exec snakemake --cores 2 "$@"
        ;;
    test)
        shift
        # The SLURM profile tests start a real two-node Slurm on loopback (tests/slurm/rig.py):
        # they need Debian's slurm-wlm and munge. Installed here when we may (root + apt-get);
        # elsewhere those tests skip, except under CI where a skip would hide them.
        if ! command -v slurmctld > /dev/null && [ "$(id -u)" -eq 0 ] \
                && command -v apt-get > /dev/null; then
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge > /dev/null
        fi
        # Everything but GPU tests; slow workflow runs included. Exit code 5 (no tests
        # collected) is a failure, not a pass.
        set +e
        python -m pytest -m "not gpu" "$@"
        status=$?
        if [ "$status" -eq 5 ]; then
            echo "pytest collected no tests: failing" >&2
            exit 1
        fi
        exit "$status"
        ;;
    *)
        echo "usage: bash scripts/bootstrap.sh demo|test [extra args]" >&2
        exit 2
        ;;
esac
