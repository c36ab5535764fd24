#!/usr/bin/env bash
# Breadth of the typed models on the SchemaStore catalog
# (../shared/corpus/schemastore-full): per schema, whether generation
# finished (no abort, no timeout) and how long it took, whether the module
# compiles, how many positive test documents deserialize and how many
# round-trip exactly (compared as values, numbers exactly, nothing
# normalized), and the share of schema nodes typed (not serde_json::Value);
# then the totals.
#
# The generated modules are built as crates of one scratch workspace with
# one job (CARGO_BUILD_JOBS=1), in target/tmp/scratch-target; delete
# target/tmp/catalog-whole and target/tmp/scratch-target to free the disk.
#
# Usage: bench/codegen-catalog.sh [N]
#   N                        only every (611/N)-th schema (a sample)
#   STATEWRIGHT_CORPUS=DIR   the shared corpus (default ../shared/corpus)

set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export STATEWRIGHT_CORPUS=${STATEWRIGHT_CORPUS:-$ROOT/../shared/corpus}
if [[ $# -gt 0 ]]; then
    export STATEWRIGHT_CATALOG_SAMPLE=$1
fi
export CARGO_BUILD_JOBS=1
cargo test -p statewright-codegen --test catalog_breadth -- --ignored whole_catalog --nocapture --test-threads 1
