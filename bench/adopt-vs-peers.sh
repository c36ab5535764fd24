#!/usr/bin/env bash
# Schema inference: `statewright init --adopt` vs genson and quicktype on
# the SchemaStore catalog's own positive test documents.
#
# For every schema of ../shared/corpus/schemastore-full with at least 5
# positive JSON test documents whose top level is an object, the documents
# (sorted by name) are split: every fifth is held back, the rest is shown
# to each tool, which infers one schema from them:
#   statewright  `statewright init --adopt` on a folder holding them
#   genson       `genson FILE...`            (PyPI genson)
#   quicktype    `quicktype -s json --lang schema --top-level Doc FILE...`
# Each inferred schema is then checked with one validator for all (Python
# jsonschema, formats not asserted) on:
#   shown      the documents it was inferred from (must be 100%)
#   held back  the held-back positive documents: how many it accepts
#              (higher: it generalises instead of memorising)
#   negative   SchemaStore's negative test documents of that schema: how
#              many it rejects (higher: stricter; informative only, the
#              tools never saw what makes them invalid)
#   size       the inferred schema's compact JSON, median bytes
#
# Peers are installed into bench/.peers/ (gitignored).
# Nothing here is timed, so any build of the binary will do.
# Usage: bench/adopt-vs-peers.sh [--no-build]
#   STATEWRIGHT_CORPUS=DIR   the shared corpus (default ../shared/corpus)
#   STATEWRIGHT_BIN=FILE     the binary (default target/release/statewright,
#                            built unless --no-build)

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CORPUS_ROOT=${STATEWRIGHT_CORPUS:-$ROOT/../shared/corpus}
FULL=$(cd "$CORPUS_ROOT/schemastore-full" && pwd)
PEERS=$ROOT/bench/.peers
BUILD=1
[[ ${1:-} == --no-build ]] && BUILD=0

log() { printf '%s\n' "$*" >&2; }

SW=${STATEWRIGHT_BIN:-$ROOT/target/release/statewright}
if [[ $BUILD == 1 && -z ${STATEWRIGHT_BIN:-} ]]; then
    log "== cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet)
fi

mkdir -p "$PEERS"
PY=$PEERS/venv/bin/python
GENSON=$PEERS/venv/bin/genson
QT=$PEERS/npm/node_modules/.bin/quicktype
if [[ ! -x $GENSON ]]; then
    log "== installing genson and jsonschema into bench/.peers/venv"
    python3 -m venv "$PEERS/venv"
    "$PEERS/venv/bin/pip" install --quiet genson jsonschema >&2
fi
"$PY" -c 'import jsonschema' 2>/dev/null || "$PEERS/venv/bin/pip" install --quiet jsonschema >&2
if [[ ! -x $QT ]]; then
    log "== installing quicktype into bench/.peers/npm"
    npm install --silent --no-fund --no-audit --prefix "$PEERS/npm" quicktype >&2
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$PY" - "$FULL" "$WORK" "$SW" "$GENSON" "$QT" <<'PY'
import json, os, subprocess, sys, statistics
from importlib.metadata import version
import jsonschema

full, work, sw, genson, qt = sys.argv[1:6]

def load(p):
    try:
        with open(p, encoding="utf-8") as f:
            v = json.load(f)
        return v if isinstance(v, dict) else None
    except Exception:
        return None

def infer_statewright(name, files):
    proj = os.path.join(work, "sw-" + name)
    st = os.path.join(proj, "st", "docs")
    os.makedirs(st)
    for i, f in enumerate(files):
        with open(f, "rb") as src, open(os.path.join(st, "d%03d.json" % i), "wb") as dst:
            dst.write(src.read())
    r = subprocess.run([sw, "init", "--adopt", "st"], cwd=proj, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip().splitlines()[0] if r.stderr.strip() else "exit %d" % r.returncode)
    with open(os.path.join(proj, "schemas", "docs", "v1.json")) as f:
        return json.load(f)

def infer_genson(name, files):
    r = subprocess.run([genson, *files], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)

def infer_quicktype(name, files):
    r = subprocess.run([qt, "-s", "json", "--lang", "schema", "--top-level", "Doc", *files],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)

TOOLS = [("statewright", infer_statewright), ("genson", infer_genson), ("quicktype", infer_quicktype)]
stats = {t: {"schemas": 0, "failed": 0, "shown": [0, 0], "held": [0, 0], "neg": [0, 0], "size": []} for t, _ in TOOLS}
picked = 0
for name in sorted(os.listdir(os.path.join(full, "test"))):
    d = os.path.join(full, "test", name)
    files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".json"))
    files = [f for f in files if load(f) is not None]
    if len(files) < 5:
        continue
    picked += 1
    held = [f for i, f in enumerate(files) if i % 5 == 4]
    shown = [f for i, f in enumerate(files) if i % 5 != 4]
    nd = os.path.join(full, "negative_test", name)
    neg = sorted(os.path.join(nd, f) for f in os.listdir(nd) if f.endswith(".json")) if os.path.isdir(nd) else []
    neg = [f for f in neg if load(f) is not None]
    for tool, infer in TOOLS:
        s = stats[tool]
        try:
            schema = infer(name, shown)
            cls = jsonschema.validators.validator_for(schema)
            v = cls(schema)
        except Exception as e:
            s["failed"] += 1
            print("  %-11s %s: %s" % (tool, name, str(e)[:120]), file=sys.stderr)
            continue
        s["schemas"] += 1
        s["size"].append(len(json.dumps(schema, separators=(",", ":"))))
        for key, docs, want in (("shown", shown, True), ("held", held, True), ("neg", neg, False)):
            for f in docs:
                s[key][1] += 1
                if v.is_valid(load(f)) == want:
                    s[key][0] += 1

print("schemas with >= 5 positive JSON object documents: %d" % picked)
print("validator: Python jsonschema %s (formats not asserted)" % version("jsonschema"))
print("%-12s %8s %14s %16s %16s %11s" % ("tool", "schemas", "shown ok", "held back ok", "negative refused", "median size"))
for tool, _ in TOOLS:
    s = stats[tool]
    pct = lambda p: "%d/%d %5.1f%%" % (p[0], p[1], 100.0 * p[0] / p[1]) if p[1] else "-"
    print("%-12s %5d/%-2d %14s %16s %16s %9d B" % (
        tool, s["schemas"], s["schemas"] + s["failed"], pct(s["shown"]), pct(s["held"]), pct(s["neg"]),
        statistics.median(s["size"]) if s["size"] else 0))
PY
