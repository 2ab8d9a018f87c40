#!/usr/bin/env python3
"""End-to-end test of messages and signals over HTTP on `flowd serve`: POST
/api/v1/messages buffers a message nothing waits for (202) and the receive task that opens
later takes it; a waiting receive task is reached (200) and a retry with the same
message_id gets the first answer; a message start event starts an instance (201); a time
to live of 0 for an unknown key is a 404 problem; POST /api/v1/signals reaches two waiting
instances; GET /api/v1/outbox lists what a send task sent (administrators only); every
route needs a token and publishing needs write scope. The CLI's `flowd message` and
`flowd signal` work on the same database. Python standard library only."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timers_common import FLOWD, Failed, Server, add_people, check, cli, request  # noqa: E402

TMP = tempfile.mkdtemp(prefix="flowd-messages-")
DB = os.path.join(TMP, "flowd.db")

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs" targetNamespace="http://t">
  <bpmn:message id="mPaid" name="paid">
    <bpmn:extensionElements><zeebe:subscription correlationKey="=orderId"/></bpmn:extensionElements>
  </bpmn:message>
  <bpmn:message id="mNew" name="newOrder"/>
  <bpmn:signal id="sAlarm" name="alarm"/>
  <bpmn:process id="orderflow" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:receiveTask id="waitPay" messageRef="mPaid"/>
    <bpmn:userTask id="ship"/>
    <bpmn:sendTask id="notify" messageRef="mPaid"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="waitPay"/>
    <bpmn:sequenceFlow id="f2" sourceRef="waitPay" targetRef="ship"/>
    <bpmn:sequenceFlow id="f3" sourceRef="ship" targetRef="notify"/>
    <bpmn:sequenceFlow id="f4" sourceRef="notify" targetRef="e"/>
  </bpmn:process>
  <bpmn:process id="onorder" isExecutable="true">
    <bpmn:startEvent id="ms"><bpmn:messageEventDefinition messageRef="mNew"/></bpmn:startEvent>
    <bpmn:userTask id="handle"/>
    <bpmn:sequenceFlow id="g1" sourceRef="ms" targetRef="handle"/>
  </bpmn:process>
  <bpmn:process id="alarmed" isExecutable="true">
    <bpmn:startEvent id="as"/>
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:signalEventDefinition signalRef="sAlarm"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="react"/>
    <bpmn:sequenceFlow id="h1" sourceRef="as" targetRef="wait"/>
    <bpmn:sequenceFlow id="h2" sourceRef="wait" targetRef="react"/>
  </bpmn:process>
</bpmn:definitions>
"""

SERVERS = []


def start(port, token, key, variables=None):
    st, doc = request(port, "POST", "/api/v1/instances",
                      {"process_key": key, "variables": variables or {}}, token)
    check(st == 201, "start %s: %d %r" % (key, st, doc))
    return doc["id"]


def open_at(port, token, iid):
    st, doc = request(port, "GET", "/api/v1/instances/%d" % iid, token=token)
    check(st == 200, "instance: %r" % doc)
    return sorted(t["node_id"] for t in doc["open_tasks"])


def run_cli(*args):
    env = dict(os.environ)
    env.pop("FLOWD_DB", None)
    env.pop("FLOWD_SERVER", None)
    return subprocess.run([FLOWD] + list(args) + ["--db", DB], capture_output=True, text=True,
                          env=env)


def main():
    srv = Server(DB, os.path.join(TMP, "server.log"), test_clock=False, now=None)
    SERVERS.append(srv)
    tokens = add_people(DB)
    admin, alice = tokens["admin"], tokens["alice"]
    reader = json.loads(cli(DB, "token", "create", "--user", "alice", "--scope", "read",
                            "--json"))["token"]
    port = srv.port

    st, doc = request(port, "POST", "/api/v1/deployments", raw=BPMN.encode(), token=admin,
                      ctype="application/xml")
    check(st in (200, 201), "deploy: %d %r" % (st, doc))

    # authentication and scope
    st, _ = request(port, "POST", "/api/v1/messages", {"name": "paid"})
    check(st == 401, "no token: %d" % st)
    st, _ = request(port, "POST", "/api/v1/messages", {"name": "paid"}, reader)
    check(st == 403, "read scope may not publish: %d" % st)
    st, _ = request(port, "POST", "/api/v1/signals", {"name": "alarm"}, reader)
    check(st == 403, "read scope may not broadcast: %d" % st)
    st, doc = request(port, "POST", "/api/v1/messages", {"correlation_key": "x"}, alice)
    check(st == 400 and doc.get("field") == "name", "name required: %d %r" % (st, doc))
    st, doc = request(port, "POST", "/api/v1/messages",
                      {"name": "paid", "time_to_live": "soon"}, alice)
    check(st == 400 and doc.get("field") == "time_to_live", "bad ttl: %d %r" % (st, doc))

    # buffered first, taken by the receive task that opens later
    st, doc = request(port, "POST", "/api/v1/messages",
                      {"name": "paid", "correlation_key": "A", "variables": {"amount": 5},
                       "time_to_live": "PT10M"}, alice)
    check(st == 202 and doc["outcome"] == "buffered" and doc["message_id"],
          "buffered: %d %r" % (st, doc))
    check(doc["instance_id"] is None and doc["expires_at"], "buffered answer: %r" % doc)
    a = start(port, alice, "orderflow", {"orderId": "A"})
    check(open_at(port, alice, a) == ["ship"], "the buffered message was taken")

    # a waiting receive task, a number as the key, and a retry by message_id
    b = start(port, alice, "orderflow", {"orderId": 42})
    check(open_at(port, alice, b) == [], "waits for its message")
    st, doc = request(port, "POST", "/api/v1/messages",
                      {"name": "paid", "correlation_key": 42, "message_id": "pay-42",
                       "variables": {"paid": True}}, alice)
    check(st == 200 and doc["outcome"] == "correlated" and doc["instance_id"] == b,
          "correlated: %d %r" % (st, doc))
    check(doc["duplicate"] is False, "first time: %r" % doc)
    check(open_at(port, alice, b) == ["ship"], "moved on")
    st, doc2 = request(port, "POST", "/api/v1/messages",
                       {"name": "paid", "correlation_key": 42, "message_id": "pay-42"}, alice)
    check(st == 200 and doc2["duplicate"] is True and doc2["instance_id"] == b,
          "retry answered as the first: %d %r" % (st, doc2))
    st, doc = request(port, "GET", "/api/v1/instances/%d/history" % b, token=alice)
    corr = [e for e in doc["items"] if e["type"] == "message_correlated"]
    check(len(corr) == 1 and corr[0]["node_id"] == "waitPay", "history: %r" % corr)

    # time to live 0 and nothing waits: refused, not lost
    st, doc = request(port, "POST", "/api/v1/messages",
                      {"name": "paid", "correlation_key": "nobody", "time_to_live": 0}, alice)
    check(st == 404 and doc.get("field") == "time_to_live", "ttl 0 refused: %d %r" % (st, doc))
    check("not buffered" in doc["detail"], "says why: %r" % doc)

    # a message start event
    st, doc = request(port, "POST", "/api/v1/messages",
                      {"name": "newOrder", "variables": {"n": 1}}, alice)
    check(st == 201 and doc["outcome"] == "started", "started: %d %r" % (st, doc))
    check(open_at(port, alice, doc["instance_id"]) == ["handle"], "at handle")

    # signals reach every waiting instance
    c1 = start(port, alice, "alarmed")
    c2 = start(port, alice, "alarmed")
    st, doc = request(port, "POST", "/api/v1/signals", {"name": "alarm", "variables": {"x": 1}},
                      alice)
    check(st == 200 and doc == {"correlated": 2, "started": 0}, "broadcast: %d %r" % (st, doc))
    check(open_at(port, alice, c1) == ["react"] and open_at(port, alice, c2) == ["react"],
          "both reacted")

    # the send task after ship: nothing waits for "paid" with key A, so it stays in the outbox
    st, doc = request(port, "GET", "/api/v1/instances/%d" % a, token=admin)
    task = [t for t in doc["open_tasks"] if t["node_id"] == "ship"][0]
    st, doc = request(port, "POST", "/api/v1/tasks/%d/complete" % task["id"], {}, admin)
    check(st == 200, "complete ship: %d %r" % (st, doc))
    st, doc = request(port, "GET", "/api/v1/outbox", token=alice)
    check(st == 403, "outbox is for administrators: %d" % st)
    st, doc = request(port, "GET", "/api/v1/outbox", token=admin)
    check(st == 200 and len(doc["items"]) == 1, "outbox: %d %r" % (st, doc))
    o = doc["items"][0]
    check(o["name"] == "paid" and o["correlation_key"] == "A" and o["instance_id"] == a and
          o["node_id"] == "notify" and o["delivered_at"] is None, "outbox row: %r" % o)
    check(o["variables"].get("orderId") == "A", "outbox variables: %r" % o)
    st, doc = request(port, "POST", "/api/v1/outbox/%d/delivered" % o["id"], {}, alice)
    check(st == 403, "marking is for administrators: %d" % st)
    st, doc = request(port, "POST", "/api/v1/outbox/%d/delivered" % o["id"], {}, admin)
    check(st == 200 and doc["delivered_at"], "marked delivered: %d %r" % (st, doc))
    st, doc = request(port, "POST", "/api/v1/outbox/%d/delivered" % (o["id"] + 1000), {}, admin)
    check(st == 404, "unknown outbox message: %d %r" % (st, doc))
    st, doc = request(port, "GET", "/api/v1/outbox", token=admin)
    check(st == 200 and doc["items"] == [], "nothing left undelivered: %r" % doc)
    st, doc = request(port, "GET", "/api/v1/outbox?all=true", token=admin)
    check(st == 200 and len(doc["items"]) == 1, "all=true lists it: %r" % doc)

    # the CLI on the same database
    r = run_cli("message", "paid", "--key", "nobody", "--ttl", "0")
    check(r.returncode == 2 and "not buffered" in r.stderr, "cli ttl 0: %r" % (r,))
    r = run_cli("message", "newOrder", "--var", "n=2", "--json")
    check(r.returncode == 0 and json.loads(r.stdout)["outcome"] == "started", "cli: %r" % (r,))
    r = run_cli("signal", "alarm")
    check(r.returncode == 0 and "0 waiting instances reached" in r.stdout, "cli signal: %r" % (r,))

    check(srv.stop() == 0, "SIGTERM exits 0")
    print("test_messages: all checks passed")


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
