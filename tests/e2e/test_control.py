#!/usr/bin/env python3
"""End-to-end test of control points and main actions on `flowd serve --test-clock`: the
event date set at start from a variable, the offer expiry when the offer is sent (after its
required e-mail action: the refusal names the stage and the action), the next contact after
each call (a "field" action met by filling the variable); set, move and clear over HTTP
with bad input refused by field and nothing changed; reminders, the due time and the
escalation level fire on the test clock into the owner's, the accountable role's and the
department head's inboxes; the overdue list follows the viewer rules; cancelling closes
them. Then the CLI: list, set, clear, show, bad dates. No real sleeps."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timers_common import FLOWD, Failed, Server, add_people, check, cli, request  # noqa: E402

TMP = tempfile.mkdtemp(prefix="flowd-control-")
DB = os.path.join(TMP, "flowd.db")

OFFER_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:flowd="https://flowd.dev/schema/bpmn/1.0" id="defs" targetNamespace="http://t">
  <bpmn:process id="offer" name="Offer" isExecutable="true">
    <bpmn:extensionElements>
      <flowd:controlPoint name="event_date" due="=eventDate" remindBefore="P7D" escalateTo="director"/>
    </bpmn:extensionElements>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="send_offer"/>
    <bpmn:userTask id="send_offer" name="Send the offer" camunda:assignee="alice">
      <bpmn:extensionElements>
        <flowd:stage>
          <flowd:raci responsible="sales" accountable="sales_head"/>
          <flowd:mainAction kind="email" ref="offer_template" required="true"/>
        </flowd:stage>
        <flowd:controlPoint name="offer_expiry" due="=date(offerSent) + duration(&quot;P14D&quot;)"
                            remindBefore="P2D" escalateTo="accountable">
          <flowd:escalation after="P1D" to="head"/>
        </flowd:controlPoint>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="send_offer" targetRef="log_call"/>
    <bpmn:userTask id="log_call" name="Call the client" camunda:assignee="alice">
      <bpmn:extensionElements>
        <flowd:stage>
          <flowd:raci responsible="sales" accountable="sales_head"/>
          <flowd:mainAction kind="field" ref="callNotes" required="true"/>
        </flowd:stage>
        <flowd:controlPoint name="next_contact" due="P7D" remindBefore="P1D"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="log_call" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="f_again"/>
    <bpmn:sequenceFlow id="f_done" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>decided = true</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_again" sourceRef="gw" targetRef="log_call"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

SERVERS = []


def advance(port, admin, duration):
    st, doc = request(port, "POST", "/api/v1/admin/clock", {"advance": duration}, admin)
    check(st == 200 and doc["settled"], "advance %s: %r" % (duration, doc))
    return doc["now"]


def controls(port, iid, token):
    st, doc = request(port, "GET", "/api/v1/instances/%d/control-points" % iid, token=token)
    check(st == 200, "control points of %d: %r" % (iid, doc))
    return {c["name"]: c for c in doc["items"]}


def overdue(port, token):
    st, doc = request(port, "GET", "/api/v1/control-points?overdue=true", token=token)
    check(st == 200, "overdue: %r" % doc)
    return [(c["instance_id"], c["name"]) for c in doc["items"]]


def inbox(port, token):
    st, doc = request(port, "GET", "/api/v1/notifications", token=token)
    check(st == 200, "inbox: %r" % doc)
    return [(n["kind"], n["control_id"]) for n in doc["items"]]


def events(port, iid, admin, type_):
    st, doc = request(port, "GET", "/api/v1/instances/%d/history" % iid, token=admin)
    check(st == 200, "history: %r" % doc)
    return [e for e in doc["items"] if e["type"] == type_]


def open_task(port, iid, token):
    st, doc = request(port, "GET", "/api/v1/instances/%d" % iid, token=token)
    check(st == 200, "instance: %r" % doc)
    return doc["open_tasks"][0]


def problem(st, doc, status, field=None):
    check(st == status and doc and doc["status"] == status, "want %d: %d %r" % (status, st, doc))
    if field:
        check(doc.get("field") == field, "want field %s: %r" % (field, doc))


def run(*args, expect=0):
    env = dict(os.environ, FLOWD_NOW="2026-12-01T12:00:00Z")
    env.pop("FLOWD_DB", None)
    r = subprocess.run([FLOWD] + list(args) + ["--db", DB], capture_output=True, text=True,
                       env=env)
    check(r.returncode == expect, "flowd %s exited %d, not %d: %s" % (" ".join(args),
                                                                     r.returncode, expect,
                                                                     r.stderr))
    return r


def main():
    srv = Server(DB, os.path.join(TMP, "server.log"))
    SERVERS.append(srv)
    tokens = add_people(DB)
    cli(DB, "user", "add", "bob", "--password-stdin", stdin="bob-pw-1\n")
    tokens["bob"] = json.loads(cli(DB, "token", "create", "--user", "bob", "--scope", "write",
                                   "--json"))["token"]
    admin, alice, bob = tokens["admin"], tokens["alice"], tokens["bob"]
    port = srv.port
    st, doc = request(port, "POST", "/api/v1/deployments", raw=OFFER_BPMN.encode(), token=admin,
                      ctype="application/xml")
    check(st in (200, 201), "deploy: %r" % doc)

    # ---- set from the model at start ----
    st, doc = request(port, "POST", "/api/v1/instances",
                      {"process_key": "offer", "variables": {"eventDate": "2026-12-20"}}, alice)
    check(st == 201, "start: %r" % doc)
    iid = doc["id"]
    cps = {c["name"]: c for c in doc["control_points"]}
    check(list(cps) == ["event_date"], "set at start: %r" % doc["control_points"])
    ev = cps["event_date"]
    check(ev["due_at"] == "2026-12-20T00:00:00.000Z" and ev["remind_at"] ==
          "2026-12-13T00:00:00.000Z" and ev["state"] == "open" and ev["done_at"] is None and
          ev["process_key"] == "offer" and ev["set_at"] == "2026-11-23T11:00:00.000Z",
          "event_date: %r" % ev)

    # ---- main action refused until recorded, naming the stage and the action ----
    t = open_task(port, iid, alice)
    st, doc = request(port, "POST", "/api/v1/tasks/%d/complete" % t["id"],
                      {"variables": {"offerSent": "2026-11-23"}}, alice)
    problem(st, doc, 422)
    check("stage 'Send the offer' (send_offer)" in doc["detail"] and
          "main action 'email'" in doc["detail"] and doc["element"] == "send_offer",
          "refusal: %r" % doc)
    st, doc = request(port, "POST", "/api/v1/tasks/%d/action" % t["id"], {"kind": "document"},
                      alice)
    problem(st, doc, 422)
    check("expects main action 'email', not 'document'" in doc["detail"], "kind: %r" % doc)
    st, doc = request(port, "POST", "/api/v1/tasks/%d/action" % t["id"],
                      {"kind": "email", "ref": "msg-4711"}, alice)
    check(st == 200 and doc["main_action"]["done"], "action: %r" % doc)
    # a due that cannot be computed refuses the completion and changes nothing
    st, doc = request(port, "POST", "/api/v1/tasks/%d/complete" % t["id"],
                      {"variables": {"offerSent": "soon"}}, alice)
    problem(st, doc, 400, "offer_expiry")
    check("control point 'offer_expiry' on 'send_offer'" in doc["detail"], "due: %r" % doc)
    check(open_task(port, iid, alice)["id"] == t["id"], "task still open")
    st, doc = request(port, "POST", "/api/v1/tasks/%d/complete" % t["id"],
                      {"variables": {"offerSent": "2026-11-23"}}, alice)
    check(st == 200, "complete: %r" % doc)
    cps = controls(port, iid, alice)
    check(cps["offer_expiry"]["due_at"] == "2026-12-07T00:00:00.000Z" and
          cps["offer_expiry"]["remind_at"] == "2026-12-05T00:00:00.000Z",
          "offer_expiry: %r" % cps)

    # ---- the "field" action: met by filling the variable ----
    t = open_task(port, iid, alice)
    check(t["node_id"] == "log_call", "at the call: %r" % t)
    st, doc = request(port, "POST", "/api/v1/tasks/%d/complete" % t["id"],
                      {"variables": {"decided": False}}, alice)
    problem(st, doc, 422, "callNotes")
    check("stage 'Call the client' (log_call)" in doc["detail"] and
          "main action 'field': fill the variable 'callNotes'" in doc["detail"],
          "field refusal: %r" % doc)
    st, doc = request(port, "POST", "/api/v1/tasks/%d/complete" % t["id"],
                      {"variables": {"decided": False, "callNotes": "interested"}}, alice)
    check(st == 200 and doc["main_action"]["done"], "complete the call: %r" % doc)
    rec = events(port, iid, admin, "main_action_recorded")
    check([e["detail"] for e in rec] == [{"kind": "email", "ref": "msg-4711"},
                                        {"kind": "field", "ref": "callNotes"}],
          "actions in history: %r" % rec)
    cps = controls(port, iid, alice)
    check(cps["next_contact"]["due_at"] == "2026-11-30T11:00:00.000Z" and
          cps["next_contact"]["remind_at"] == "2026-11-29T11:00:00.000Z",
          "next contact a week after the call: %r" % cps["next_contact"])

    # ---- set, move and clear over HTTP; bad input refused by field, nothing changed ----
    before = controls(port, iid, alice)
    for body, field in (({"name": "x", "due": "2026-02-30"}, "due"),
                        ({"name": "x", "due": "P"}, "due"),
                        ({"name": "x", "due": "-P1D"}, "due"),
                        ({"name": "x", "due": "P1D", "remind_before": "P"}, "remind_before"),
                        ({"name": "bad name", "due": "P1D"}, "name"),
                        ({"name": "x"}, "due"),
                        ({"due": "P1D"}, "name"),
                        ({"name": 5, "due": "P1D"}, "name"),
                        ({"name": "x", "due": "P1D", "when": 1}, "when")):
        st, doc = request(port, "POST", "/api/v1/instances/%d/control-points" % iid, body, alice)
        problem(st, doc, 400, field)
    st, doc = request(port, "POST", "/api/v1/instances/%d/control-points" % iid, raw=b"{",
                      token=alice, ctype="application/json")
    problem(st, doc, 400)
    check(controls(port, iid, alice) == before, "nothing changed by bad input")
    st, doc = request(port, "POST", "/api/v1/instances/%d/control-points" % iid,
                      {"name": "invoice_due", "due": "P30D", "remind_before": "P3D"}, alice)
    check(st == 200 and doc["name"] == "invoice_due" and doc["due_at"] ==
          "2026-12-23T11:00:00.000Z" and doc["remind_at"] == "2026-12-20T11:00:00.000Z" and
          doc["state"] == "open", "set: %r" % doc)
    st, doc = request(port, "POST", "/api/v1/instances/%d/control-points" % iid,
                      {"name": "invoice_due", "due": "2027-01-10T09:00:00+01:00"}, alice)
    check(st == 200 and doc["due_at"] == "2027-01-10T08:00:00.000Z" and doc["remind_at"] is None
          and doc["id"] == controls(port, iid, alice)["invoice_due"]["id"], "moved: %r" % doc)
    set_events = [e["detail"] for e in events(port, iid, admin, "control_set")]
    check(set_events[-1] == {"name": "invoice_due", "due": "2027-01-10T08:00:00.000Z"},
          "control_set event: %r" % set_events)
    # who may: bob sees nothing of alice's case; the head of her department reads it
    st, doc = request(port, "GET", "/api/v1/instances/%d/control-points" % iid, token=bob)
    problem(st, doc, 404)
    st, doc = request(port, "POST", "/api/v1/instances/%d/control-points" % iid,
                      {"name": "y", "due": "P1D"}, bob)
    problem(st, doc, 404)
    st, doc = request(port, "DELETE", "/api/v1/instances/%d/control-points/invoice_due" % iid,
                      token=bob)
    problem(st, doc, 404)
    check(len(controls(port, iid, tokens["boss"])) == 4, "the head reads them")
    st, doc = request(port, "POST", "/api/v1/instances/999999/control-points",
                      {"name": "y", "due": "P1D"}, admin)
    problem(st, doc, 404)
    st, doc = request(port, "GET", "/api/v1/control-points?overdue=maybe", token=alice)
    problem(st, doc, 400, "overdue")
    st, doc = request(port, "GET", "/api/v1/control-points")
    check(st == 401, "anonymous: %d" % st)

    # ---- the clock: reminder, due, escalation ----
    check(overdue(port, alice) == [], "nothing overdue yet")
    advance(port, admin, "P6D")  # 2026-11-29T11:00: next contact's reminder
    nc = controls(port, iid, alice)["next_contact"]["id"]
    check(inbox(port, alice) == [("control_point", nc)], "reminded: %r" % inbox(port, alice))
    rem = events(port, iid, admin, "control_reminded")
    check(len(rem) == 1 and rem[0]["ref_id"] == nc and
          rem[0]["detail"] == {"name": "next_contact", "due": "2026-11-30T11:00:00.000Z"},
          "control_reminded: %r" % rem)
    advance(port, admin, "P1D")  # 2026-11-30T11:00: next contact is due
    check(overdue(port, alice) == [(iid, "next_contact")], "overdue: %r" % overdue(port, alice))
    check(overdue(port, bob) == [], "bob sees no overdue control points")
    check(overdue(port, admin) == [(iid, "next_contact")], "admin sees all")
    esc = events(port, iid, admin, "escalated")
    check([(e["ref_id"], e["detail"]) for e in esc] == [(nc, {"level": 0, "to": ["owner"]})],
          "escalated: %r" % esc)
    check(("overdue", nc) in inbox(port, alice), "owner told: %r" % inbox(port, alice))
    check(controls(port, iid, alice)["next_contact"]["state"] == "overdue", "state overdue")
    st, doc = request(port, "DELETE", "/api/v1/instances/%d/control-points/next_contact" % iid,
                      token=alice)
    check(st == 204, "clear: %d %r" % (st, doc))
    st, doc = request(port, "DELETE", "/api/v1/instances/%d/control-points/next_contact" % iid,
                      token=alice)
    problem(st, doc, 404)
    check(overdue(port, alice) == [], "cleared: %r" % overdue(port, alice))
    check(controls(port, iid, alice)["next_contact"]["state"] == "done", "listed as done")

    # move the offer expiry close: reminder, due (owner + accountable), level 1 (head)
    st, doc = request(port, "POST", "/api/v1/instances/%d/control-points" % iid,
                      {"name": "offer_expiry", "due": "2026-11-30T13:00:00Z"}, alice)
    check(st == 200 and doc["remind_at"] == "2026-11-28T13:00:00.000Z", "default reminder "
          "from the model (fires at once: the reminder time has passed): %r" % doc)
    oe = doc["id"]
    advance(port, admin, "PT1M")
    check(("control_point", oe) in inbox(port, alice), "reminded at once")
    advance(port, admin, "PT2H")  # 13:01: due
    check(("overdue", oe) in inbox(port, alice), "owner told")
    check(inbox(port, tokens["carol"]) == [("overdue", oe)], "accountable role told: %r"
          % inbox(port, tokens["carol"]))
    check(inbox(port, tokens["boss"]) == [], "head not yet")
    advance(port, admin, "P1D")
    check(inbox(port, tokens["boss"]) == [("escalation", oe)], "level 1 tells the head: %r"
          % inbox(port, tokens["boss"]))
    esc = [e["detail"] for e in events(port, iid, admin, "escalated") if e["ref_id"] == oe]
    check(esc == [{"level": 0, "to": ["owner", "accountable"]}, {"level": 1, "to": ["head"]}],
          "levels: %r" % esc)
    check(inbox(port, tokens["dan"]) == [], "the director's event date is not due")

    # ---- the instance ends: its control points close, none stays overdue ----
    st, doc = request(port, "POST", "/api/v1/instances/%d/cancel" % iid, {"reason": "lost"}, alice)
    check(st == 200 and all(c["done_at"] for c in doc["control_points"]),
          "closed with the case: %r" % doc["control_points"])
    check(overdue(port, admin) == [], "nothing overdue after cancel")
    advance(port, admin, "P30D")
    check(inbox(port, tokens["dan"]) == [], "no event date reminder for a cancelled case")
    st, doc = request(port, "POST", "/api/v1/instances/%d/control-points" % iid,
                      {"name": "late", "due": "P1D"}, alice)
    problem(st, doc, 409)
    check(srv.stop() == 0, "SIGTERM exits 0")

    # ---- the CLI (FLOWD_NOW=2026-12-01T12:00:00Z) ----
    r = run("control", "list", "--all", "--json")
    names = [c["name"] for c in json.loads(r.stdout)["control_points"]]
    check(sorted(names) == ["event_date", "invoice_due", "next_contact", "offer_expiry"],
          "cli list --all: %r" % names)
    r = run("control", "list")
    check(r.stdout.strip() == "no open control points", "cli list: %r" % r.stdout)
    r = run("start", "offer", "--var", "eventDate=2026-12-02", "--json")
    iid2 = json.loads(r.stdout)["instance"]["id"]
    r = run("control", "set", str(iid2), "survey", "2026-11-30", "--remind", "P1D", "--as",
            "alice")
    check("set control point 'survey' of instance %d" % iid2 in r.stdout and "survey" in r.stdout,
          "cli set: %r" % r.stdout)
    r = run("control", "list", "--overdue", "--json")
    got = [(c["instance_id"], c["name"], c["state"]) for c in json.loads(r.stdout)["control_points"]]
    check(got == [(iid2, "survey", "overdue")], "cli overdue: %r" % got)
    r = run("show", str(iid2))
    check("control points:" in r.stdout and "event_date" in r.stdout and "overdue" in r.stdout,
          "show: %r" % r.stdout)
    r = run("show", str(iid2), "--json")
    check(len(json.loads(r.stdout)["control_points"]) == 2, "show --json")
    r = run("control", "set", str(iid2), "x", "2026-02-30", expect=1)
    check("DUE '2026-02-30' is not a date" in r.stderr and r.stderr.count("\n") == 1,
          "bad date: %r" % r.stderr)
    r = run("control", "set", str(iid2), "x", "P", expect=1)
    check("'P' is not an ISO 8601 duration" in r.stderr, "bad duration: %r" % r.stderr)
    r = run("control", "set", str(iid2), "x", "P1D", "--remind", "P", expect=1)
    check("--remind" in r.stderr, "bad remind: %r" % r.stderr)
    r = run("control", "set", str(iid2), "bad/name", "P1D", expect=1)
    r = run("control", "set", str(iid), "x", "P1D", expect=3)
    check("cancelled" in r.stderr, "cancelled case: %r" % r.stderr)
    r = run("control", "clear", str(iid2), "nope", expect=2)
    r = run("control", "clear", str(iid2), "survey")
    check("cleared control point 'survey'" in r.stdout, "cli clear: %r" % r.stdout)
    r = run("control", "list", "--overdue")
    check(r.stdout.strip() == "no overdue control points", "cli overdue after clear: %r" % r.stdout)
    r = run("control", expect=1)
    r = run("control", "list", "--instance", "abc", expect=1)
    print("test_control: all checks passed")


if __name__ == "__main__":
    ok = False
    try:
        main()
        ok = True
    except Failed:
        pass
    finally:
        for s in SERVERS:
            if s.p.poll() is None:
                s.p.kill()
                s.p.wait()
    if ok:
        shutil.rmtree(TMP, ignore_errors=True)
    else:
        print("server log and database kept in", TMP, file=sys.stderr)
    sys.exit(0 if ok else 1)
