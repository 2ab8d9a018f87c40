#!/usr/bin/env bash
# End-to-end test of the flowd CLI: drives the built binary on a temporary SQLite database
# through deploy (new version, unchanged), start with typed variables, task filters, due
# and overdue marks, a required main action refused then recorded, complete, show,
# instances, --json documents parsed with python3, incidents from conditions on unknown
# variables, and every kind of bad input with its exit code and the proof (a dump of the
# whole database) that nothing stored changed.
set -euo pipefail

# shellcheck source=cli/lib.sh
. "${FLOWD_SOURCE_DIR:?FLOWD_SOURCE_DIR must name the source tree}/tests/e2e/cli/lib.sh"

# ---- help, usage ----
run 0 --help
has "deploy"
has "complete"
run 0 help start
has "--business-key"
run 0 start --help
has "--var NAME=VALUE"
run 0 version
has "flowd "
for cmd in deploy definitions start tasks complete action instances show; do
    run 0 help "$cmd"
    has "usage: flowd $cmd"
    has "--db PATH"
    run 0 "$cmd" --help
    has "usage: flowd $cmd"
done
run 1
run 1 frobnicate
one_error_line
run 1 tasks --bogus
one_error_line
err_has "unknown option '--bogus'"
run 1 start
one_error_line
run 1 help frobnicate

# ---- no database yet: reads say so, bad writes create nothing ----
run 2 tasks
one_error_line
err_has "no database"
run 2 start approval
[ ! -e "$FLOWD_DB" ] || fail "start created a database"
head -c 400 "$data/approval.bpmn" >"$tmp/truncated.bpmn"
run 1 deploy "$tmp/truncated.bpmn"
one_error_line
err_has "truncated.bpmn"
err_has "line"
[ ! -e "$FLOWD_DB" ] || fail "a failed deploy created a database"

# ---- deploy: new, unchanged, changed ----
run 0 deploy "$data/approval.bpmn"
has "deployed approval version 1"
[ "$(wc -l <"$err")" -eq 1 ] || fail "expected one warning"
err_has "flowd: warning: $data/approval.bpmn: RACI of user task 'prepare' names no accountable role (element 'prepare', line"
run 0 deploy "$data/approval.bpmn"
has "unchanged approval version 1"
run 0 deploy "$data/approval.bpmn" --json
json 'r = d["deployed"]; assert len(r) == 1 and r[0]["key"] == "approval" and r[0]["version"] == 1 and r[0]["created"] is False, r
w = r[0]["warnings"]; assert len(w) == 1 and w[0]["element"] == "prepare" and "accountable" in w[0]["message"] and w[0]["line"] > 0, w'
run 0 deploy --json "$data/triage.bpmn"
json 'assert d["deployed"][0]["created"] is True and d["deployed"][0]["version"] == 1'
sed 's/name="Approval"/name="Approval (v2)"/' "$data/approval.bpmn" >"$tmp/approval2.bpmn"
run 0 deploy "$tmp/approval2.bpmn" --json
json 'r = d["deployed"][0]; assert r["key"] == "approval" and r["version"] == 2 and r["created"] is True, r'
run 0 deploy "$tmp/approval2.bpmn"
has "unchanged approval version 2"
run 0 definitions --json
json 'v = sorted((x["key"], x["version"]) for x in d["definitions"]); assert v == [("approval", 1), ("approval", 2), ("triage", 1)], v'
run 0 definitions
has "Approval (v2)"

# ---- start with variables of every form ----
run 0 start approval --business-key DEAL-1 --as anna --var amount=1500.50 --var client=ACME \
    --var 'note:string=007' --var 'signed:date=2026-01-31' --var 'vip:bool=true' \
    --var 'items:json=[1, 2]' --var 'count:number=12' --var 'ratio=0.1' --var 'empty=' \
    --var 'quoted="12"' --json
json '
i = d["instance"]; v = i["variables"]
assert i["process_key"] == "approval" and i["version"] == 2 and i["status"] == "active", i
assert i["business_key"] == "DEAL-1" and i["incident"] is False
assert v["amount"] == Decimal("1500.50") and v["client"] == "ACME" and v["note"] == "007", v
assert v["signed"] == "2026-01-31" and v["vip"] is True and v["items"] == [1, 2], v
assert v["count"] == 12 and v["ratio"] == Decimal("0.1") and v["empty"] == "" and v["quoted"] == "12", v
t = d["open_tasks"]; assert len(t) == 1, t
t = t[0]
assert t["name"] == "Prepare offer" and t["node_id"] == "prepare" and t["status"] == "open", t
assert t["candidate_roles"] == ["clerk"], t
assert t["due_at"] == "2026-03-04T09:00:00.000Z" and t["remind_at"] == "2026-03-03T09:00:00.000Z", t
assert t["main_action"] == {"kind": "document", "required": True, "done": False}, t
assert d["incidents"] == []'
jget i1 'd["instance"]["id"]'
jget t1 'd["open_tasks"][0]["id"]'
run 0 start approval --version 1 --var amount=10 --business-key DEAL-2
has "started instance"
has "approval version 1"
has "Prepare offer"
has "open tasks:"
run 0 instances --json
json 'assert sorted(x["version"] for x in d["instances"]) == [1, 2]'
jget i2 '[x["id"] for x in d["instances"] if x["business_key"] == "DEAL-2"][0]'

# ---- tasks: filters, marks ----
run 0 tasks
has "Prepare offer"
has "MAIN ACTION"
has "document (required)"
has "2026-03-04T09:00:00Z"
lacks "overdue"
run 0 tasks --role clerk --json
json 'assert len(d["tasks"]) == 2 and all(t["candidate_roles"] == ["clerk"] for t in d["tasks"]), d'
run 0 tasks --role head --json
json 'assert d["tasks"] == []'
run 0 tasks --role head
has "no open tasks"
run 0 tasks --instance "$i1" --json
json "assert [t['id'] for t in d['tasks']] == [$t1]"
run 0 tasks --assignee nobody --json
json 'assert d["tasks"] == []'
FLOWD_NOW=2026-03-03T12:00:00Z run 0 tasks
has "(remind)"
FLOWD_NOW=2026-03-05T00:00:00Z run 0 tasks
has "(overdue)"
FLOWD_NOW=2026-03-05T00:00:00Z run 0 tasks --json
json 'assert all(t["overdue"] for t in d["tasks"])'
run 1 tasks --instance abc
one_error_line

# ---- the required main action, then complete ----
before=$(snapshot)
run 3 complete "$t1" --as anna
one_error_line
err_has "action"
[ "$(snapshot)" = "$before" ] || fail "a refused completion changed the store"
run 1 action "$t1"
err_has "--kind"
run 0 action "$t1" --kind document --ref offer-v1.pdf --as anna --json
json 't = d["task"]; assert t["id"] == '"$t1"' and t["main_action"]["done"] is True and t["status"] == "open", t'
run 0 tasks --instance "$i1"
has "document (done)"
run 0 complete "$t1" --as anna --var discount=5
has "completed task $t1 (Prepare offer)"
has "Approve"
run 0 tasks --role head --json
json 'assert [t["name"] for t in d["tasks"]] == ["Approve"] and d["tasks"][0]["instance_id"] == '"$i1"
jget t_approve 'd["tasks"][0]["id"]'
run 0 tasks --all --instance "$i1" --json
json 's = {t["name"]: (t["status"], t["closed_by"]) for t in d["tasks"]}; assert s["Prepare offer"] == ("completed", "anna") and s["Approve"] == ("open", None), s'
run 0 complete "$t_approve" --as boss --json
json 'assert d["instance"]["status"] == "completed" and d["instance"]["ended_at"] and d["open_tasks"] == [], d'
run 0 show "$i1"
has "status: completed"
has "history:"
has "discount = 5"
has "main_action_recorded"
run 0 show "$i1" --json
json '
types = [e["type"] for e in d["history"]]
for want in ["instance_started", "task_created", "main_action_recorded", "task_completed", "instance_completed"]:
    assert want in types, (want, types)
assert types[0] == "instance_started" and types[-1] == "instance_completed", types
assert d["instance"]["variables"]["discount"] == 5 and d["open_tasks"] == [] and d["incidents"] == []
seqs = [e["seq"] for e in d["history"]]; assert seqs == sorted(seqs)'

# ---- instances ----
run 0 instances --active --json
json 'ids = [x["id"] for x in d["instances"]]; assert '"$i1"' not in ids and '"$i2"' in ids, ids'
run 0 instances
has "DEAL-1"
has "completed"
run 0 instances --active
lacks "DEAL-1"

# ---- incidents: conditions on unknown variables ----
run 3 start triage --business-key T-1
has "started instance"
err_has "incident"
err_has "priority"
run 0 instances --json
jget i_triage '[x["id"] for x in d["instances"] if x["business_key"] == "T-1"][0]'
run 0 show "$i_triage"
has "incidents:"
has "at 'priority_gw': condition of flow"
run 0 show "$i_triage" --json
json 'assert d["instance"]["incident"] is True and len(d["incidents"]) == 1 and d["incidents"][0]["node_id"] == "priority_gw", d["incidents"]'
run 0 start triage --var priority=high --business-key $'Q"\\\t1' --var 'client=ООО «Ромашка»' --json
json 'assert [t["name"] for t in d["open_tasks"]] == ["Handle now"] and d["incidents"] == []
assert d["instance"]["business_key"] == "Q" + chr(34) + chr(92) + chr(9) + "1", d["instance"]
assert d["instance"]["variables"]["client"] == "ООО «Ромашка»"'
run 0 start approval --business-key DEAL-3 --json
jget t3 'd["open_tasks"][0]["id"]'
run 0 action "$t3" --kind document
run 3 complete "$t3"
has "completed task $t3"
err_has "amount"
run 3 complete "$t3" --json
one_error_line
err_has "already completed"

# ---- bad input: clear one-line error, right exit code, nothing stored changes ----
before=$(snapshot)
run 1 deploy "$tmp/truncated.bpmn"
one_error_line
sed 's#http://www.omg.org/spec/BPMN/20100524/MODEL#http://example.com/not-bpmn#' \
    "$data/approval.bpmn" >"$tmp/wrongns.bpmn"
run 4 deploy "$tmp/wrongns.bpmn"
one_error_line
sed 's/targetRef="approve"/targetRef="nowhere"/' "$data/approval.bpmn" >"$tmp/dangling.bpmn"
run 4 deploy "$tmp/dangling.bpmn"
one_error_line
err_has "nowhere"
err_has "line"
truncate -s 9M "$tmp/huge.bpmn"
run 1 deploy "$tmp/huge.bpmn"
one_error_line
err_has "limit"
# through a pipe, where no size is known in advance: the cap applies while reading
mkfifo "$tmp/pipe"
(head -c 9000000 /dev/zero >"$tmp/pipe" 2>/dev/null || true) &
writer=$!
run 1 deploy - <"$tmp/pipe"
wait "$writer"
one_error_line
err_has "limit"
run 2 deploy "$tmp/does-not-exist.bpmn"
one_error_line
run 1 deploy "$tmp"
one_error_line
run 1 start approval --var 'amount:number=abc'
one_error_line
[ "$(cat "$err")" = "flowd: --var 'amount:number=abc': 'abc' is not a number" ] || fail "wrong --var message"
run 1 start approval --var 'ok:bool=yes'
one_error_line
run 1 start approval --var 'when:date=2026-02-30'
one_error_line
err_has "not a date"
run 1 start approval --var 'when:date=31.01.2026'
run 1 start approval --var 'doc:json={"a":'
one_error_line
err_has "not valid JSON"
run 1 start approval --var 'x:weird=1'
err_has "unknown type"
run 1 start approval --var novalue
one_error_line
run 1 start approval --var '=5'
run 1 start approval --version zero
run 2 start nosuchprocess
one_error_line
run 2 start approval --version 99
one_error_line
run 2 complete 999999
one_error_line
err_has "not found"
run 1 complete abc
run 1 complete "$t3" "$t3"
run 3 complete "$t1"
one_error_line
run 3 action "$t1" --kind document
one_error_line
run 0 tasks --json
jget open_task 'd["tasks"][0]["id"]'
run 1 complete "$open_task" --var 'n:number=1,5'
one_error_line
run 2 show 999999
one_error_line
run 1 show
run 1 tasks --db
[ "$(snapshot)" = "$before" ] || fail "bad input changed the store"

# ---- --db without the environment ----
FLOWD_DB= run 0 tasks --db "$FLOWD_DB" --json
json 'assert len(d["tasks"]) >= 1'
(cd "$tmp" && FLOWD_DB= "$FLOWD_BINARY" instances --json >"$out" 2>"$err") || fail "flowd instances with the default database failed"
json 'assert len(d["instances"]) >= 1'

# ---- feel: evaluate an expression as the engine would ----
run 0 feel '1 + 2'
[ "$(cat "$out")" = 3 ] || fail "feel 1 + 2"
run 0 feel '= amount * 2' --var amount=0.1
[ "$(cat "$out")" = 0.2 ] || fail "feel keeps exact decimals"
run 0 feel 'date(d) + duration("P1M")' --var d:date=2026-01-31
[ "$(cat "$out")" = '"2026-02-28"' ] || fail "feel date arithmetic"
run 0 feel 'items[item > 1]' --var 'items=[1,2,3]'
[ "$(cat "$out")" = '[2,3]' ] || fail "feel filter"
run 0 feel '[1..5]' --unary 5
[ "$(cat "$out")" = true ] || fail "feel unary test"
run 1 feel '1 +'
one_error_line
err_has "column 4"
run 3 feel 'x + 1'
[ "$(cat "$out")" = null ] || fail "feel failing expression prints null"
err_has "no variable found for name 'x'"
run 1 feel
one_error_line
run 1 feel --var 'a:number=x' 'a'
one_error_line

# ---- conformance: a real corpus folder, totals under the documented keys ----
mkdir -p "$tmp/conf/src-a" "$tmp/conf/src-b"
printf '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">\n<process id="q" isExecutable="true"><startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/><userTask id="t"/><sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/></process></definitions>\n' >"$tmp/conf/src-a/q.bpmn"
cp "$data/approval.bpmn" "$tmp/conf/src-a/"
printf '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">\n<process id="p" isExecutable="true"><startEvent id="s"/><adHocSubProcess id="sub"/></process></definitions>\n' >"$tmp/conf/src-b/sub.bpmn"
printf 'not xml' >"$tmp/conf/src-b/junk.xml"
run 0 conformance "$tmp/conf" --json
json 'assert (d["files"], d["executable"], d["crashed"], d["timed_out"]) == (4, 3, 0, 0), d'
json 'assert d["loaded"] == 2 and d["ran_to_end"] == 1, d'
json 'assert "no variable found" in d["stopped"][0]["reason"], d'
json 'assert [s["source"] for s in d["sources"]] == ["src-a", "src-b"], d'
json 'assert d["rejected"][0]["count"] == 1 and "ad-hoc subprocesses" in d["rejected"][0]["reason"], d'
run 0 conformance "$tmp/conf"
has "all"
has "subProcess"
run 2 conformance "$tmp/nowhere"
if [ -d "${FLOWD_CORPORA:-}/bpmn/zeebe-process-test" ]; then
    run 0 conformance "$FLOWD_CORPORA/bpmn/zeebe-process-test" --json
    json 'assert d["files"] == 15 and d["crashed"] == 0 and d["timed_out"] == 0, d'
    json 'assert d["loaded"] <= d["executable"] and d["ran_to_end"] <= d["loaded"], d'
fi

echo "test_cli: $checks checks passed"
