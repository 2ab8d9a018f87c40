# Shared helpers of the CLI end-to-end tests (sourced by tests/e2e/test_cli*.sh): a
# temporary database and fixed clock, `run` with exit-code checks, JSON checks by one
# long-lived python3, error-line checks, and a snapshot of everything stored.
# shellcheck shell=bash

: "${FLOWD_BINARY:?FLOWD_BINARY must name the built flowd binary}"
: "${FLOWD_SOURCE_DIR:?FLOWD_SOURCE_DIR must name the source tree}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -z "${PYCHECK_PID:-}" ] || kill "$PYCHECK_PID" 2>/dev/null || true' EXIT
data=$FLOWD_SOURCE_DIR/tests/e2e/cli
out=$tmp/stdout
err=$tmp/stderr
export FLOWD_DB=$tmp/flowd.db
export FLOWD_NOW=2026-03-02T09:00:00Z # a fixed clock: due times below are exact
checks=0

fail() {
    echo "FAIL: $*" >&2
    echo "--- stdout:" >&2
    cat "$out" >&2 2>/dev/null || true
    echo "--- stderr:" >&2
    cat "$err" >&2 2>/dev/null || true
    exit 1
}

# run WANT_EXIT ARGS...: run flowd, keep stdout/stderr, check the exit code.
run() {
    local want=$1 got=0
    shift
    "$FLOWD_BINARY" "$@" >"$out" 2>"$err" || got=$?
    [ "$got" = "$want" ] || fail "flowd $* exited $got, expected $want"
    checks=$((checks + 1))
}

# One python3 checks every JSON document (starting one per check would cost more than all
# the flowd runs): each request is "FILE<TAB>base64(CODE)"; CODE runs with d = the parsed
# document (numbers as Decimal), or with a leading "=" is evaluated and its value returned.
coproc PYCHECK {
    exec python3 -u -c '
import base64, json, sys
from decimal import Decimal
for line in sys.stdin:
    path, code = line.rstrip("\n").split("\t")
    code = base64.b64decode(code).decode()
    try:
        env = {"d": json.load(open(path), parse_float=Decimal), "Decimal": Decimal}
        if code.startswith("="):
            print("ok\t%s" % (eval(code[1:], env),))
        else:
            exec(code, env)
            print("ok\t")
    except Exception as e:
        print("fail\t%r" % (e,))
'
}
pycheck_reply=
pycheck() {
    printf '%s\t%s\n' "$out" "$(printf '%s' "$1" | base64 -w0)" >&"${PYCHECK[1]}"
    IFS= read -r pycheck_reply <&"${PYCHECK[0]}" || fail "the JSON checker died"
}

# json CODE: check the JSON document on stdout of the last run with python CODE.
json() {
    pycheck "$1"
    [ "${pycheck_reply%%$'\t'*}" = ok ] || fail "JSON check failed: $1: ${pycheck_reply#*$'\t'}"
    checks=$((checks + 1))
}

# jget VAR EXPR: set shell variable VAR to python EXPR over the last JSON document.
jget() {
    pycheck "=$2"
    [ "${pycheck_reply%%$'\t'*}" = ok ] || fail "cannot read $2: ${pycheck_reply#*$'\t'}"
    printf -v "$1" '%s' "${pycheck_reply#*$'\t'}"
}

has() { grep -qF -- "$1" "$out" || fail "stdout lacks '$1'"; }
lacks() { ! grep -qF -- "$1" "$out" || fail "stdout has '$1'"; }
err_has() { grep -qiF -- "$1" "$err" || fail "stderr lacks '$1'"; }

# The error contract: exactly one line on stderr, "flowd: ...".
one_error_line() {
    [ "$(wc -l <"$err")" -eq 1 ] || fail "stderr is not exactly one line"
    grep -q '^flowd: ' "$err" || fail "stderr does not start with 'flowd: '"
}

# Everything stored, hashed: the whole database as SQL text when the sqlite3 shell is there
# (scripts/install-deps installs it), else everything the CLI can read.
snapshot() {
    local ids
    if command -v sqlite3 >/dev/null; then
        sqlite3 -readonly "$FLOWD_DB" .dump | sha256sum
        return
    fi
    ids=$("$FLOWD_BINARY" instances --json |
        python3 -c 'import json,sys; print(" ".join(str(i["id"]) for i in json.load(sys.stdin)["instances"]))')
    {
        "$FLOWD_BINARY" definitions --json
        "$FLOWD_BINARY" instances --json
        "$FLOWD_BINARY" tasks --all --json
        for id in $ids; do "$FLOWD_BINARY" show "$id" --json; done
    } | sha256sum
}

