#!/usr/bin/env bash
# Build the Evidence reports from the warehouse: `make reports` runs this from the project root.
#
#   npm ci (from package-lock.json, when it changed; its postinstall applies patches/)
#   -> npm run check (pages compile) -> npm run sources -> npm run build
#
# Nothing here needs the network once node_modules is installed: DuckDB-WASM is pinned to 1.28.0
# (DuckDB 0.9.1, parquet built in) through package.json `overrides`, so neither `evidence sources`
# nor the site in the browser downloads a DuckDB extension. reports/README.md says why.
#
# The warehouse is $MOVIEREC_WAREHOUSE (default warehouse/movierec.duckdb, relative to the project
# root). Evidence's duckdb connector joins its `filename` option to the source folder, so the path
# is handed over relative to reports/sources/movierec, through EVIDENCE_SOURCE__movierec__filename.
# Each of `sources` and `build` is stopped after REPORTS_TIMEOUT seconds (default 1800), so that a
# hang fails instead of blocking CI.
set -uo pipefail

cd "$(dirname "$0")/.."  # the project root
WAREHOUSE="${MOVIEREC_WAREHOUSE:-warehouse/movierec.duckdb}"
TIMEOUT="${REPORTS_TIMEOUT:-1800}"
LOG="reports/.evidence/make-reports.log"

if [ ! -f "$WAREHOUSE" ]; then
    echo "make reports: no warehouse at $WAREHOUSE; run \`make demo\` first (or set MOVIEREC_WAREHOUSE)." >&2
    exit 1
fi
command -v npm >/dev/null || { echo "make reports: needs Node.js 18+ and npm." >&2; exit 1; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' \
    || { echo "make reports: needs Node.js 18+ (found $(node --version))." >&2; exit 1; }

# npm ci (a clean install from the lockfile) when the lockfile or a patch changed since the last one
stamp=reports/node_modules/.installed
if [ ! -f "$stamp" ] || [ reports/package-lock.json -nt "$stamp" ] \
        || [ -n "$(find reports/patches -newer "$stamp" -type f 2>/dev/null)" ]; then
    echo "== npm ci (reports/package-lock.json, then patch-package applies reports/patches/)"
    (cd reports && npm ci --no-audit --no-fund) || exit 1
    touch "$stamp"
fi
mkdir -p reports/.evidence
: > "$LOG"

echo "== npm run check (every page through Evidence's preprocessor and the Svelte compiler)"
(cd reports && npm run --silent check) || exit 1

export SEND_ANONYMOUS_USAGE_STATS=no  # Evidence's telemetry
export EVIDENCE_SOURCE__movierec__filename
EVIDENCE_SOURCE__movierec__filename="$(realpath -m --relative-to=reports/sources/movierec "$WAREHOUSE")"
echo "== warehouse: $WAREHOUSE (as seen from reports/sources/movierec: $EVIDENCE_SOURCE__movierec__filename)"

for step in sources build; do
    echo "== npm run $step (time limit ${TIMEOUT}s)"
    (cd reports && timeout --kill-after=10 "$TIMEOUT" npm run "$step") 2>&1 | tee -a "$LOG"
    status=${PIPESTATUS[0]}
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        echo "make reports: \`npm run $step\` did not finish in ${TIMEOUT}s (REPORTS_TIMEOUT); log: $LOG" >&2
        exit 1
    elif [ "$status" -ne 0 ]; then
        echo "make reports: \`npm run $step\` failed (exit $status); log: $LOG" >&2
        exit 1
    fi
done
echo "== reports built in reports/build/ (serve them with: make reports-serve)"
