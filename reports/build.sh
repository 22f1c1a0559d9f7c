#!/usr/bin/env bash
# Build the Evidence reports from the warehouse: `make reports` runs this from the project root.
#
#   npm ci (from package-lock.json, when it changed) -> npm run check (pages compile)
#   -> npm run sources -> npm run build (each of the last two under a time limit)
#
# The warehouse is $MOVIEREC_WAREHOUSE (default warehouse/movierec.duckdb, relative to the project
# root). Evidence's duckdb connector joins its `filename` option to the source folder, so the path
# is handed over relative to reports/sources/movierec, through EVIDENCE_SOURCE__movierec__filename.
#
# `evidence sources` and `evidence build` load their query results into DuckDB-WASM, which
# downloads its parquet extension from the DuckDB extension host at run time. Without access to
# that host they hang: this script checks the host first, gives each step REPORTS_TIMEOUT
# seconds, and says what happened. The report SQL itself is checked offline by
# tests/integration/test_reports_sql.py.
set -uo pipefail

cd "$(dirname "$0")/.."  # the project root
WAREHOUSE="${MOVIEREC_WAREHOUSE:-warehouse/movierec.duckdb}"
TIMEOUT="${REPORTS_TIMEOUT:-300}"
EXTENSION_HOST="${DUCKDB_EXTENSION_HOST:-extensions.duckdb.org}"
LOG="reports/.evidence/make-reports.log"

explain_unreachable() {
    cat >&2 <<EOF

make reports: the Evidence build could not finish ($1).
  Evidence loads query results into DuckDB-WASM, which downloads its parquet extension from the
  DuckDB extension host ($EXTENSION_HOST) while it runs. That host cannot be reached from
  here, and without it \`evidence sources\` / \`evidence build\` hang (REPORTS_TIMEOUT=${TIMEOUT}s
  per step stops them). This is a limit of the network here, not of the project: where the host
  is reachable, \`make reports\` builds reports/build/ and \`cd reports && npm run dev\` serves it.
  Every SQL query of every page and source is checked without Evidence by
      .venv/bin/python -m pytest tests/integration/test_reports_sql.py
  and the same charts are in the notebooks (\`make notebooks\` -> docs/notebooks/*.html).
  Log: $LOG
EOF
}

if [ ! -f "$WAREHOUSE" ]; then
    echo "make reports: no warehouse at $WAREHOUSE; run \`make demo\` first (or set MOVIEREC_WAREHOUSE)." >&2
    exit 1
fi
command -v npm >/dev/null || { echo "make reports: needs Node.js 18+ and npm." >&2; exit 1; }

# npm ci (a clean install from the lockfile) when the lockfile changed since the last one
if [ ! -f reports/node_modules/.installed ] || [ reports/package-lock.json -nt reports/node_modules/.installed ]; then
    echo "== npm ci (reports/package-lock.json)"
    (cd reports && npm ci --no-audit --no-fund) || exit 1
    touch reports/node_modules/.installed
fi
mkdir -p reports/.evidence
: > "$LOG"

echo "== npm run check (every page through Evidence's preprocessor and the Svelte compiler)"
(cd reports && npm run --silent check) || exit 1

export SEND_ANONYMOUS_USAGE_STATS=no  # Evidence's telemetry
export EVIDENCE_SOURCE__movierec__filename
EVIDENCE_SOURCE__movierec__filename="$(realpath -m --relative-to=reports/sources/movierec "$WAREHOUSE")"
echo "== warehouse: $WAREHOUSE (as seen from reports/sources/movierec: $EVIDENCE_SOURCE__movierec__filename)"

# The probe: name resolution and a TLS connection to the extension host, 10 seconds at most.
if ! node -e "fetch('https://$EXTENSION_HOST/', {method: 'HEAD', signal: AbortSignal.timeout(10000)})
        .then(() => process.exit(0), () => process.exit(1))"; then
    if [ "${REPORTS_SKIP_PROBE:-0}" != "1" ]; then
        explain_unreachable "the probe of $EXTENSION_HOST failed; set REPORTS_SKIP_PROBE=1 to try anyway"
        exit 1
    fi
    echo "== $EXTENSION_HOST is unreachable; trying anyway (REPORTS_SKIP_PROBE=1), ${TIMEOUT}s per step"
fi

for step in sources build; do
    echo "== npm run $step (time limit ${TIMEOUT}s)"
    (cd reports && timeout --kill-after=10 "$TIMEOUT" npm run "$step") 2>&1 | tee -a "$LOG"
    status=${PIPESTATUS[0]}
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        explain_unreachable "\`npm run $step\` timed out after ${TIMEOUT}s"
        exit 1
    elif [ "$status" -ne 0 ]; then
        if grep -qiE "extension|$EXTENSION_HOST|ENOTFOUND|EAI_AGAIN" "$LOG"; then
            explain_unreachable "\`npm run $step\` failed while fetching a DuckDB extension"
        else
            echo "make reports: \`npm run $step\` failed (exit $status); see $LOG" >&2
        fi
        exit 1
    fi
done
echo "== reports built in reports/build/ (serve them with: cd reports && npm run preview)"
