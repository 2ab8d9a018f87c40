#!/usr/bin/env bash
# End-to-end test of `flowd jobs` and `flowd incidents` on a database with a fixed clock:
# activate (locks, variables, headers, nothing twice), a worker refused a job another
# holds, fail with retries and a backoff, out of retries into an incident, resolve with
# new retries and variables, complete, and the usage errors with their exit codes.
set -euo pipefail

# shellcheck source=cli/lib.sh
. "${FLOWD_SOURCE_DIR:?FLOWD_SOURCE_DIR must name the source tree}/tests/e2e/cli/lib.sh"

run 0 jobs --help
has "usage: flowd jobs activate TYPE"
run 0 incidents --help
has "flowd incidents resolve ID"
run 1 jobs
one_error_line
run 1 jobs frobnicate
one_error_line
run 1 jobs activate
err_has "missing TYPE"
run 1 jobs fail 1
err_has "--retries"
run 1 jobs activate charge --timeout soon
err_has "--timeout 'soon'"

run 0 deploy "$data/pay.bpmn"
run 0 start pay --var amount=12
run 0 jobs activate charge --worker w1 --timeout PT10M --json
json 'assert len(d["jobs"]) == 1; j = d["jobs"][0]; assert j["worker"] == "w1" and j["retries"] == 2'
json 'j = d["jobs"][0]; assert j["variables"] == {"amount": 12} and j["headers"] == {"currency": "EUR"}'
json 'assert d["jobs"][0]["deadline"] == "2026-03-02T09:10:00.000Z"'
jget job 'd["jobs"][0]["id"]'
run 0 jobs activate charge --worker w2
has "no jobs"
run 3 jobs complete "$job" --worker w2
err_has "locked by worker 'w1'"
run 0 jobs list --status open
has "w1"

# fail with a retry left and a backoff; then out of retries: an incident
run 0 jobs fail "$job" --retries 1 --error "gateway down" --backoff PT1M --worker w1
has "failed"
run 0 jobs list --json
json 'j = d["items"][0]; assert j["retries"] == 1 and j["error_message"] == "gateway down"'
json 'assert d["items"][0]["activatable_at"] == "2026-03-02T09:01:00.000Z"'
run 0 jobs activate charge --worker w1
has "no jobs"
run 0 jobs fail "$job" --retries 0 --error "card declined"
has "no retries left"
run 0 incidents
has "card declined"
run 0 incidents list --json
json 'assert len(d["items"]) == 1 and d["items"][0]["job_id"] == '"$job"
jget inc 'd["items"][0]["id"]'
run 0 incidents resolve "$inc" --retries 4 --var card=5555
has "resolved incident $inc"
run 3 incidents resolve "$inc"
err_has "already resolved"
run 0 incidents
has "no incidents"
run 0 jobs activate charge --worker w1 --json
json 'j = d["jobs"][0]; assert j["retries"] == 4 and j["variables"]["card"] == 5555'
jget job2 'd["jobs"][0]["id"]'
run 0 jobs complete "$job2" --var charged=true --worker w1
has "instance 1 is completed"
run 3 jobs complete "$job2"
err_has "already completed"
run 2 jobs complete 999
run 0 show 1 --json
json 'assert d["instance"]["status"] == "completed" and d["instance"]["variables"]["charged"] is True'
echo "ok ($checks checks)"
