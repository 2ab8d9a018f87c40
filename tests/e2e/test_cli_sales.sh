#!/usr/bin/env bash
# End-to-end test of the demo model through the CLI: deploys examples/sales.bpmn (no errors,
# no warnings), then runs deals to their ends along routes that cross every gateway of the
# sales process: the long route (offer sent back for clarification, several signers, payment
# in two parts, client not satisfied) to "Deal won", the short route to "Deal won", and a
# refused presentation to "Deal lost". Each stage's task must go to its lane's role, its
# required main action must be refused until recorded, and the history must be complete.
set -euo pipefail

# shellcheck source=cli/lib.sh
. "${FLOWD_SOURCE_DIR:?FLOWD_SOURCE_DIR must name the source tree}/tests/e2e/cli/lib.sh"

sales=$FLOWD_SOURCE_DIR/examples/sales.bpmn

run 0 deploy "$sales" --json
json 'r = d["deployed"]; assert [(x["key"], x["version"], x["created"]) for x in r] == [("sales", 1, True)] and r[0]["warnings"] == [], r'

# step INSTANCE NODE ROLE [--var ...]: the instance's one open task is at NODE for ROLE;
# record its main action when the stage has one (after checking that completion is refused
# while a required one is missing), then complete it with the variables given.
step() {
    local inst=$1 node=$2 role=$3 task kind required
    shift 3
    run 0 tasks --instance "$inst" --json
    json "t = d['tasks']; assert [(x['node_id'], x['candidate_roles']) for x in t] == [('$node', ['$role'])], t"
    jget task 'd["tasks"][0]["id"]'
    jget kind '(d["tasks"][0]["main_action"] or {}).get("kind", "")'
    jget required '(d["tasks"][0]["main_action"] or {}).get("required", False)'
    # a "field" action is met by its variable: refused without the variables, and the
    # completion that fills it records it; other kinds are refused until recorded
    if [ "$required" = True ] && [ "$kind" = field ]; then
        run 3 complete "$task" --as tester
        one_error_line
        err_has "main action 'field': fill the variable"
    elif [ "$required" = True ]; then
        run 3 complete "$task" --as tester "$@"
        one_error_line
        err_has "($node) requires its main action '$kind'"
    fi
    if [ -n "$kind" ] && [ "$kind" != field ]; then
        run 0 action "$task" --kind "$kind" --ref "$node.pdf" --as tester
    fi
    run 0 complete "$task" --as tester "$@"
}

# finished INSTANCE END: the instance completed at end event END with a full history.
finished() {
    run 0 show "$1" --json
    json "
i = d['instance']; h = d['history']
assert i['status'] == 'completed' and not i['incident'] and i['ended_at'], i
assert d['open_tasks'] == [] and d['incidents'] == []
assert h[0]['type'] == 'instance_started' and h[-1]['type'] == 'instance_completed', h[-1]
assert '$2' in [e['node_id'] for e in h if e['type'] == 'node_entered'], 'end $2 not reached'
created = sum(e['type'] == 'task_created' for e in h)
completed = sum(e['type'] == 'task_completed' for e in h)
assert created == completed > 0, (created, completed)"
}

# The long route: every alternative branch once.
run 0 start sales --business-key DEAL-LONG --var 'client=ACME Events' --var amount=250000.00 --json
jget long 'd["instance"]["id"]'
step "$long" presentation sales_manager --var presentationAccepted=true
step "$long" prepare_offer sales_manager
step "$long" approve_offer head_of_sales --var offerNeedsClarification=true --var signerCount=2
step "$long" prepare_offer sales_manager
step "$long" approve_offer head_of_sales --var offerNeedsClarification=false
step "$long" legal_review lawyer
step "$long" sign_agreement sales_manager
step "$long" send_invoice accountant --var paymentInTwoParts=true
step "$long" receive_prepayment accountant --var 'prepaidAmount:number=125000'
step "$long" receive_final_payment accountant --var 'paidAmount:number=250000'
step "$long" run_event event_manager
step "$long" collect_feedback sales_manager --var clientSatisfied=false
step "$long" analyse head_of_sales
step "$long" close_deal sales_manager --var 'nextContactDate:date=2026-09-01'
has "completed"
finished "$long" end_won
run 0 show "$long" --json
json 'v = d["instance"]["variables"]; assert v["amount"] == Decimal("250000.00") and v["signerCount"] == 2 and v["nextContactDate"] == "2026-09-01", v'

# The short route: every default flow.
run 0 start sales --business-key DEAL-SHORT --json
jget short 'd["instance"]["id"]'
step "$short" presentation sales_manager --var presentationAccepted=true
step "$short" prepare_offer sales_manager
step "$short" approve_offer head_of_sales --var offerNeedsClarification=false --var signerCount=1
step "$short" sign_agreement sales_manager
step "$short" send_invoice accountant --var paymentInTwoParts=false
step "$short" receive_payment accountant --var paidAmount=99.90
step "$short" run_event event_manager
step "$short" collect_feedback sales_manager --var clientSatisfied=true
step "$short" close_deal sales_manager --var 'nextContactDate:date=2027-01-15'
finished "$short" end_won

# The client refuses the presentation.
run 0 start sales --business-key DEAL-LOST --json
jget lost 'd["instance"]["id"]'
step "$lost" presentation sales_manager --var presentationAccepted=false
step "$lost" record_loss sales_manager --var 'lossReason=budget cut'
finished "$lost" end_lost

run 0 instances --active --json
json 'assert d["instances"] == [], d'
run 0 tasks --json
json 'assert d["tasks"] == [], d'

echo "test_cli_sales: $checks checks passed"
