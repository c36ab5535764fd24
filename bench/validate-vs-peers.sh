#!/usr/bin/env bash
# End-to-end benchmark: statewright vs check-jsonschema vs ajv-cli on the
# SchemaStore corpus (../shared/corpus/schemastore).
#
# Each tool validates the same documents against the same schemas the way a
# user runs it: one process per schema, all of that schema's documents on
# its command line. The whole loop over the corpus is timed (wall clock),
# repeated RUNS times (default 3), and the median is reported with ratios.
#
# Peers are installed into bench/.peers/ (gitignored); nothing is installed
# globally. Refs never come from the network: statewright maps both
# SchemaStore hosts to the local schemas folder, ajv-cli gets the referenced
# schema files with -r, check-jsonschema resolves relative refs from the
# schema file (--base-uri) and is run with an unreachable proxy so that any
# ref it would download fails fast instead of using the network.
#
# Usage: bench/validate-vs-peers.sh [--no-build] [--runs N]
#   STATEWRIGHT_CORPUS=DIR   the shared corpus (default ../shared/corpus)

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CORPUS_ROOT=${STATEWRIGHT_CORPUS:-$ROOT/../shared/corpus}
STORE=$(cd "$CORPUS_ROOT/schemastore" && pwd)
PEERS=$ROOT/bench/.peers
WORK=$PEERS/run
RUNS=3
BUILD=1

while [[ $# -gt 0 ]]; do
    case $1 in
    --no-build) BUILD=0 ;;
    --runs)
        RUNS=$2
        shift
        ;;
    -h | --help)
        sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "unknown argument: $1" >&2
        exit 2
        ;;
    esac
    shift
done

log() { printf '%s\n' "$*" >&2; }
now_ns() { date +%s%N; }

# ---------------------------------------------------------------- build ---
SW=$ROOT/target/release/statewright
if [[ $BUILD == 1 ]]; then
    log "== cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet)
fi
[[ -x $SW ]] || {
    log "no $SW; run without --no-build"
    exit 2
}

# ---------------------------------------------------------------- peers ---
mkdir -p "$PEERS"
CJ=$PEERS/venv/bin/check-jsonschema
AJV=$PEERS/npm/node_modules/.bin/ajv
HAVE_CJ=0
HAVE_AJV=0

if [[ -x $CJ ]]; then
    HAVE_CJ=1
else
    log "== installing check-jsonschema into bench/.peers/venv"
    if python3 -m venv "$PEERS/venv" &&
        "$PEERS/venv/bin/pip" install --quiet check-jsonschema >&2 &&
        [[ -x $CJ ]]; then
        HAVE_CJ=1
    else
        log "!! check-jsonschema could not be installed; continuing without it"
    fi
fi

if [[ -x $AJV && -d $PEERS/npm/node_modules/ajv-formats ]]; then
    HAVE_AJV=1
else
    log "== installing ajv-cli and ajv-formats into bench/.peers/npm"
    if command -v npm >/dev/null &&
        npm install --silent --no-fund --no-audit --prefix "$PEERS/npm" ajv-cli ajv-formats >&2 &&
        [[ -x $AJV ]]; then
        HAVE_AJV=1
    else
        log "!! ajv-cli could not be installed; continuing without it"
    fi
fi

TOOLS=(statewright)
[[ $HAVE_CJ == 1 ]] && TOOLS+=(check-jsonschema)
[[ $HAVE_AJV == 1 ]] && TOOLS+=(ajv-cli)

version_of() {
    case $1 in
    statewright) "$SW" --version 2>/dev/null | head -1 ;;
    check-jsonschema) "$CJ" --version 2>/dev/null | head -1 ;;
    ajv-cli)
        local cli core
        cli=$(sed -n 's/^ *"version": "\(.*\)",$/\1/p' "$PEERS/npm/node_modules/ajv-cli/package.json")
        core=$(sed -n 's/^ *"version": "\(.*\)",$/\1/p' "$PEERS/npm/node_modules/ajv/package.json")
        echo "ajv-cli $cli (ajv $core, ajv-formats)"
        ;;
    esac
}

# ----------------------------------------------------------------- plan ---
# plan/NAME.docs: the schema's JSON and YAML documents (positive, then
# negative), relative to the corpus folder; plan/NAME.refs: the schema files
# it refers to, transitively; plan/schemas.tsv: NAME <tab> ajv --spec.
rm -rf "$WORK"
mkdir -p "$WORK/plan" "$WORK/disc"
python3 - "$STORE" "$WORK/plan" >&2 <<'PY'
import json, os, sys
store, out = sys.argv[1], sys.argv[2]
m = json.load(open(os.path.join(store, "MANIFEST.json")))
schemas_dir = os.path.join(store, "schemas")

def refs_in(o, acc):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "$ref" and isinstance(v, str):
                acc.add(v)
            else:
                refs_in(v, acc)
    elif isinstance(o, list):
        for v in o:
            refs_in(v, acc)

def closure(name):
    seen, todo = set(), [name]
    while todo:
        n = todo.pop()
        acc = set()
        refs_in(json.load(open(os.path.join(schemas_dir, n + ".json"))), acc)
        deps = set(m["picked"].get(n, {}).get("refs", []))
        for r in acc:
            base = r.split("#")[0].rsplit("/", 1)[-1]
            if base.endswith(".json") and os.path.exists(os.path.join(schemas_dir, base)):
                deps.add(base[:-5])
        for d in deps - seen - {name}:
            seen.add(d)
            todo.append(d)
    return sorted(seen)

rows, skipped_ext, toml_only, toml_docs = [], [], [], 0
for name, e in m["picked"].items():
    if m["external_refs"].get(name):
        skipped_ext.append(name)
        continue
    docs = [("test/" + d) for d in e.get("positive", [])] + [
        ("negative_test/" + d) for d in e.get("negative", [])
    ]
    keep = [d for d in docs if os.path.splitext(d)[1].lower() in (".json", ".yaml", ".yml")]
    toml_docs += len(docs) - len(keep)
    if not keep:
        toml_only.append(name)
        continue
    meta = json.load(open(os.path.join(schemas_dir, name + ".json"))).get("$schema", "")
    spec = ("draft2020" if "2020-12" in meta else "draft2019" if "2019-09" in meta
            else "draft4" if "draft-04" in meta else "draft7")
    with open(os.path.join(out, name + ".docs"), "w") as f:
        f.writelines(d + "\n" for d in keep)
    with open(os.path.join(out, name + ".refs"), "w") as f:
        f.writelines("schemas/%s.json\n" % r for r in closure(name))
    rows.append((name, spec, len(keep)))
with open(os.path.join(out, "schemas.tsv"), "w") as f:
    f.writelines("%s\t%s\t%d\n" % r for r in rows)
print("corpus: %d picked schemas; %d with JSON/YAML documents (%d documents)"
      % (len(m["picked"]), len(rows), sum(r[2] for r in rows)))
print("  skipped, $ref outside the corpus (MANIFEST external_refs): %s" % ", ".join(skipped_ext))
print("  skipped, TOML documents only (ajv-cli cannot read TOML): %s" % ", ".join(toml_only))
print("  %d TOML documents left out in all" % toml_docs)
PY

# ---------------------------------------------------------------- tools ---
# run_tool TOOL NAME SPEC DOCLIST: one invocation, as a user would run it,
# in the corpus folder; stdout/stderr go wherever the caller sends them.
# Returns the tool's exit code.
run_tool() {
    local tool=$1 name=$2 spec=$3 list=$4
    local -a docs refs args
    local r d
    mapfile -t docs <"$list"
    case $tool in
    statewright)
        "$SW" validate --format json --formats --schema "schemas/$name.json" \
            --schema-dir "https://json.schemastore.org/=$STORE/schemas" \
            --schema-dir "https://www.schemastore.org/=$STORE/schemas" \
            "${docs[@]}"
        ;;
    check-jsonschema)
        HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 \
            https_proxy=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 NO_PROXY= no_proxy= \
            "$CJ" --no-cache -o json --base-uri "file://$STORE/schemas/$name.json" \
            --schemafile "schemas/$name.json" "${docs[@]}"
        ;;
    ajv-cli)
        mapfile -t refs <"$WORK/plan/$name.refs"
        # ajv-cli 5 has no draft-04 mode: such schemas run as draft7 and
        # fail on the draft-04 meta-schema, which the discovery pass reports
        [[ $spec == draft4 ]] && spec=draft7
        args=(validate "--spec=$spec" -c ajv-formats --strict=false --errors=line -s "schemas/$name.json")
        for r in "${refs[@]}"; do args+=(-r "$r"); done
        for d in "${docs[@]}"; do args+=(-d "$d"); done
        "$AJV" "${args[@]}"
        ;;
    loop-floor) /bin/true "${docs[@]}" ;; # the harness alone: same loop, no tool
    esac
}

# ------------------------------------------------------------ discovery ---
# One untimed pass: which schemas each tool can run offline, and each
# tool's verdict per document. ajv-cli stops at the first document it
# cannot parse (exit 2); such documents are dropped from the shared set and
# ajv-cli is run again on the rest.
log "== discovery pass (untimed): ${TOOLS[*]}"
cd "$STORE"
while IFS=$'\t' read -r name spec _n; do
    for tool in "${TOOLS[@]}"; do
        d=$WORK/disc/$tool
        mkdir -p "$d"
        cp "$WORK/plan/$name.docs" "$d/$name.docs"
        : >"$d/$name.unreadable"
        while :; do
            rc=0
            run_tool "$tool" "$name" "$spec" "$d/$name.docs" >"$d/$name.out" 2>"$d/$name.err" || rc=$?
            echo "$rc" >"$d/$name.rc"
            [[ $tool == ajv-cli && $rc == 2 ]] || break
            # documents are checked in order: the first one without a
            # verdict is the one ajv-cli could not read
            bad=""
            while IFS= read -r doc; do
                if ! grep -qxF -- "$doc valid" "$d/$name.out" &&
                    ! grep -qxF -- "$doc invalid" "$d/$name.err"; then
                    bad=$doc
                    break
                fi
            done <"$d/$name.docs"
            [[ -n $bad ]] || break
            echo "$bad" >>"$d/$name.unreadable"
            grep -vxF -- "$bad" "$d/$name.docs" >"$d/$name.docs.new" || true
            mv "$d/$name.docs.new" "$d/$name.docs"
            [[ -s $d/$name.docs ]] || break
        done
    done
done <"$WORK/plan/schemas.tsv"

# Analysis: per tool and schema, did it run; per document, the verdict.
# Writes shared/NAME.docs (the documents every tool judged) and
# shared/schemas.tsv (the schemas every tool ran), prints what was left out
# and the agreement table.
mkdir -p "$WORK/shared"
python3 - "$WORK" "${TOOLS[@]}" <<'PY'
import json, os, sys
work, tools = sys.argv[1], sys.argv[2:]
plan = os.path.join(work, "plan")
rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(plan, "schemas.tsv"))]

def lines(p):
    return [l.rstrip("\n") for l in open(p)] if os.path.exists(p) else []

def verdicts(tool, name):
    """{doc: True/False} or an error string."""
    d = os.path.join(work, "disc", tool)
    rc = int(open(os.path.join(d, name + ".rc")).read())
    out = open(os.path.join(d, name + ".out"), errors="replace").read()
    err = open(os.path.join(d, name + ".err"), errors="replace").read()
    docs = lines(os.path.join(d, name + ".docs"))
    msg = err.strip().splitlines() or out.strip().splitlines() or ["exit %d" % rc]
    if msg[0].startswith("Traceback"):
        first = msg[-1]
    elif msg[0].endswith(" is invalid") and len(msg) > 1:  # ajv-cli: the reason follows
        first = msg[0] + ": " + msg[1]
    else:
        first = msg[0]
    first = first.strip()[:160]
    if tool == "statewright":
        if rc not in (0, 1):
            return "exit %d: %s" % (rc, first)
        try:
            reps = json.loads(out)["documents"]
        except (ValueError, KeyError):
            return "exit %d, no JSON report: %s" % (rc, first)
        return {r["file"]: not any(f.get("severity") == "error" for f in r["findings"]) for r in reps}
    if tool == "check-jsonschema":
        try:
            j = json.loads(out)
        except ValueError:
            return "exit %d: %s" % (rc, first)
        bad = {e["filename"] for e in j.get("errors", [])} | {
            e["filename"] for e in j.get("parse_errors", [])}
        return {doc: doc not in bad for doc in docs}
    if tool == "ajv-cli":
        v = {}
        for l in out.splitlines():
            if l.endswith(" valid"):
                v[l[:-6]] = True
        for l in err.splitlines():
            if l.endswith(" invalid") and l[:-8] in docs:
                v[l[:-8]] = False
        if rc not in (0, 1) or set(v) != set(docs):
            return "exit %d: %s" % (rc, first)
        return v

shared, excluded, dropped = [], [], []
table = {t: {} for t in tools}
for name, spec, _ in rows:
    docs = lines(os.path.join(plan, name + ".docs"))
    res = {t: verdicts(t, name) for t in tools}
    errs = {t: r for t, r in res.items() if isinstance(r, str)}
    if errs:
        excluded.append((name, errs))
        continue
    common = [d for d in docs if all(d in res[t] for t in tools)]
    for d in docs:
        if d not in common:
            dropped.append((name, d, [t for t in tools if d not in res[t]]))
    if not common:
        excluded.append((name, {"-": "no document every tool can read"}))
        continue
    shared.append((name, spec, common))
    for t in tools:
        for d in common:
            table[t][d] = res[t][d]

os.makedirs(os.path.join(work, "shared"), exist_ok=True)
with open(os.path.join(work, "shared", "schemas.tsv"), "w") as f:
    for name, spec, common in shared:
        f.write("%s\t%s\t%d\n" % (name, spec, len(common)))
        with open(os.path.join(work, "shared", name + ".docs"), "w") as g:
            g.writelines(d + "\n" for d in common)

ndocs = sum(len(c) for _, _, c in shared)
print()
print("shared set: %d schemas, %d documents (JSON and YAML, positive and negative)"
      % (len(shared), ndocs))
if excluded:
    print("schemas left out for every tool (some tool cannot run them offline):")
    for name, errs in excluded:
        for t, e in errs.items():
            print("  %-18s %-17s %s" % (name, t, e))
if dropped:
    print("documents left out for every tool (some tool cannot read them):")
    for name, d, who in dropped:
        print("  %-40s unreadable for %s" % (d, ", ".join(who)))

print()
print("agreement on the shared set (documents judged valid):")
pos = lambda d: d.startswith("test/")
print("  %-18s %6s %8s %18s %18s" % ("tool", "valid", "invalid", "positives valid", "negatives invalid"))
allpos = sum(1 for _, _, c in shared for d in c if pos(d))
for t in tools:
    v = table[t]
    print("  %-18s %6d %8d %11d / %-4d %11d / %-4d" % (
        t, sum(v.values()), sum(not x for x in v.values()),
        sum(1 for d, x in v.items() if x and pos(d)), allpos,
        sum(1 for d, x in v.items() if not x and not pos(d)), len(v) - allpos))
alldocs = [d for _, _, c in shared for d in c]
same = sum(1 for d in alldocs if len({table[t][d] for t in tools}) == 1)
print("  all %d tools give the same verdict on %d of %d documents" % (len(tools), same, len(alldocs)))
diff = [d for d in alldocs if len({table[t][d] for t in tools}) > 1]
for d in diff:
    print("    differ: %-55s %s" % (d, "  ".join("%s=%s" % (t, "valid" if table[t][d] else "invalid") for t in tools)))
PY

# ---------------------------------------------------------------- timed ---
mapfile -t SHARED <"$WORK/shared/schemas.tsv"
NDOCS=0
for row in "${SHARED[@]}"; do NDOCS=$((NDOCS + ${row##*$'\t'})); done
[[ $NDOCS -gt 0 ]] || {
    log "nothing to time"
    exit 1
}

# time_loop TOOL: validates the shared set once; prints wall seconds and
# the CPU seconds (user + system) of the tool's processes.
# statewright's exit 2 (an error, not findings) is counted in $WORK/errors.
# (`times` must run in the process whose children are counted, not in a
# command substitution of its own)
children_cpu() {
    times >"$WORK/times"
    awk 'NR == 2 { split($0, a, /[ms ]+/); print a[1] * 60 + a[2] + a[3] * 60 + a[4] }' "$WORK/times"
}
time_loop() {
    local tool=$1 t0 t1 rc row name spec errors=0 c0 c1
    children_cpu >"$WORK/cpu0"
    t0=$(now_ns)
    for row in "${SHARED[@]}"; do
        IFS=$'\t' read -r name spec _ <<<"$row"
        rc=0
        run_tool "$tool" "$name" "$spec" "$WORK/shared/$name.docs" >/dev/null 2>&1 || rc=$?
        if [[ $tool == statewright && $rc -ge 2 ]]; then errors=$((errors + 1)); fi
    done
    t1=$(now_ns)
    children_cpu >"$WORK/cpu1"
    c0=$(cat "$WORK/cpu0")
    c1=$(cat "$WORK/cpu1")
    echo "$errors" >>"$WORK/errors.$tool"
    awk -v a="$t0" -v b="$t1" -v c="$c0" -v d="$c1" 'BEGIN { printf "%.3f %.3f\n", (b - a) / 1e9, d - c }'
}

log ""
log "== timed: $RUNS runs of the whole shared set per tool, tools interleaved"
declare -A TIMES CPUS
for ((r = 1; r <= RUNS; r++)); do
    for tool in loop-floor "${TOOLS[@]}"; do
        read -r s c < <(time_loop "$tool")
        TIMES[$tool]+="$s "
        CPUS[$tool]+="$c "
        log "  run $r  $(printf '%-17s' "$tool") wall ${s}s  cpu ${c}s  (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    done
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

SW_MED=$(median <<<"${TIMES[statewright]}")
SW_CPU=$(median <<<"${CPUS[statewright]}")
NSCHEMAS=${#SHARED[@]}
echo
echo "machine: $(nproc) cores, $(uname -sr), load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$NSCHEMAS schemas, $NDOCS documents, one process per schema; median of $RUNS runs; $(date -u +%Y-%m-%dT%H:%MZ)"
for tool in "${TOOLS[@]}"; do echo "  $(version_of "$tool")"; done
echo
printf '%-17s %8s %6s %8s %9s %8s %9s   %s\n' tool "wall s" docs "docs/s" "wall vs" "cpu s" "cpu vs" "wall s of each run"
for tool in "${TOOLS[@]}"; do
    med=$(median <<<"${TIMES[$tool]}")
    cpu=$(median <<<"${CPUS[$tool]}")
    awk -v t="$tool" -v m="$med" -v sw="$SW_MED" -v c="$cpu" -v swc="$SW_CPU" -v n="$NDOCS" -v runs="${TIMES[$tool]}" 'BEGIN {
        printf "%-17s %8.3f %6d %8.1f %8.1fx %8.3f %8.1fx   %s\n", t, m, n, n / m, m / sw, c, c / swc, runs }'
done
med=$(median <<<"${TIMES[loop-floor]}")
printf '%-17s %8.3f %6s %8s %9s %8s %9s   %s\n' "(loop floor)" "$med" - - - - - "${TIMES[loop-floor]}"
echo "(vs = the tool's time divided by statewright's: how many times faster statewright is."
echo " loop floor = the same loop spawning /bin/true instead of a tool: process spawning and"
echo " script overhead, included in every tool's wall time above and not subtracted)"
echo
errs=$(awk '{ s += $1 } END { print s + 0 }' "$WORK/errors.statewright")
echo "statewright invocations that ended in an error (exit 2) during timed runs: $errs"
for tool in "${TOOLS[@]}"; do
    [[ $tool == statewright ]] && continue
    med=$(median <<<"${TIMES[$tool]}")
    target=10
    [[ $tool == check-jsonschema ]] && target=30
    awk -v t="$tool" -v m="$med" -v sw="$SW_MED" -v g="$target" 'BEGIN {
        r = m / sw; printf "target: statewright >= %dx faster than %s: %.1fx  %s\n", g, t, r, (r >= g ? "MET" : "NOT MET") }'
done
