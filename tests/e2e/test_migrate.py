#!/usr/bin/env python3
"""End-to-end test of migration and modification on `flowd serve --test-clock`: version 1
of a process runs, version 2 renames the waiting task and adds a step; migrating without
the mapping is refused naming the element (nothing moves), with it the task keeps its id
under its new element and its boundary timer keeps its due time; a batch with one instance
that cannot move moves none and lists it; "every active instance of version 1" moves the
rest; non-administrators are refused. Modification cancels a token and starts one before
an element, recorded in the history with the administrator; cancelling the last token
cancels the instance. Then the CLI over --server and on the database. No real sleeps."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timers_common import FLOWD, Failed, Server, add_people, check, request  # noqa: E402

TMP = tempfile.mkdtemp(prefix="flowd-migrate-")
DB = os.path.join(TMP, "flowd.db")

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://t">
  <bpmn:process id="claim" name="Claim" isExecutable="true">
    <bpmn:startEvent id="start"/>
"""
TAIL = """    <bpmn:endEvent id="end"/>
    <bpmn:endEvent id="late_end"/>
  </bpmn:process>
</bpmn:definitions>
"""
LATE = """    <bpmn:boundaryEvent id="late" attachedToRef="%s">
      <bpmn:timerEventDefinition><bpmn:timeDuration>%s</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="fl" sourceRef="late" targetRef="late_end"/>
"""
V1 = HEAD + """    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:userTask id="review" name="Review" camunda:assignee="alice"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="pay"/>
    <bpmn:userTask id="pay" name="Pay" camunda:assignee="alice"/>
    <bpmn:sequenceFlow id="f3" sourceRef="pay" targetRef="end"/>
""" + LATE % ("review", "PT1H") + TAIL
V2 = HEAD + """    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="assess"/>
    <bpmn:userTask id="assess" name="Assess" camunda:assignee="alice"/>
    <bpmn:sequenceFlow id="f2" sourceRef="assess" targetRef="approve"/>
    <bpmn:userTask id="approve" name="Approve" camunda:assignee="alice"/>
    <bpmn:sequenceFlow id="f2b" sourceRef="approve" targetRef="pay"/>
    <bpmn:userTask id="pay" name="Pay" camunda:assignee="alice"/>
    <bpmn:sequenceFlow id="f3" sourceRef="pay" targetRef="end"/>
""" + LATE % ("assess", "PT2H") + TAIL

SERVERS = []


def deploy(port, admin, xml):
    st, doc = request(port, "POST", "/api/v1/deployments", raw=xml.encode(), token=admin,
                      ctype="application/xml")
    check(st in (200, 201), "deploy: %r" % doc)
    return doc["processes"][0]["version"]


def start(port, token):
    st, doc = request(port, "POST", "/api/v1/instances", {"process_key": "claim"}, token)
    check(st == 201, "start: %r" % doc)
    return doc["id"]


def instance(port, iid, token):
    st, doc = request(port, "GET", "/api/v1/instances/%d" % iid, token=token)
    check(st == 200, "instance %d: %r" % (iid, doc))
    return doc


def history(port, iid, token, type_=None):
    st, doc = request(port, "GET", "/api/v1/instances/%d/history" % iid, token=token)
    check(st == 200, "history: %r" % doc)
    return [e for e in doc["items"] if type_ is None or e["type"] == type_]


def token_of_task(port, iid, task_id, token):
    for e in history(port, iid, token, "task_created"):
        if e["ref_id"] == task_id:
            return e["token_id"]
    raise Failed("no task_created for task %d" % task_id)


def complete(port, task_id, token):
    st, doc = request(port, "POST", "/api/v1/tasks/%d/complete" % task_id, {}, token)
    check(st == 200, "complete %d: %r" % (task_id, doc))
    return doc


def run(*args, expect=0, server=None, token=None):
    env = dict(os.environ)
    env.pop("FLOWD_DB", None)
    env.pop("FLOWD_SERVER", None)
    tail = ["--server", server, "--token", token] if server else ["--db", DB]
    r = subprocess.run([FLOWD] + list(args) + tail, capture_output=True, text=True, env=env)
    check(r.returncode == expect, "flowd %s exited %d, not %d: %s %s" % (
        " ".join(args), r.returncode, expect, r.stdout, r.stderr))
    return r


def main():
    srv = Server(DB, os.path.join(TMP, "server.log"))
    SERVERS.append(srv)
    tokens = add_people(DB)
    admin, alice = tokens["admin"], tokens["alice"]
    port = srv.port
    check(deploy(port, admin, V1) == 1, "v1")
    a, b, c = start(port, alice), start(port, alice), start(port, alice)
    task_a = instance(port, a, alice)["open_tasks"][0]["id"]
    task_b = instance(port, b, alice)["open_tasks"][0]["id"]
    complete(port, task_b, alice)  # b waits at pay
    check(deploy(port, admin, V2) == 2, "v2")

    # ---- one instance ----
    st, doc = request(port, "POST", "/api/v1/instances/%d/migrate" % a, {"to_version": 2}, alice)
    check(st == 403, "non-admin migrate: %d %r" % (st, doc))
    st, doc = request(port, "POST", "/api/v1/instances/%d/migrate" % a, {"to_version": 2}, admin)
    check(st == 400 and doc["element"] == "review" and "'review'" in doc["detail"],
          "unmapped: %d %r" % (st, doc))
    check(instance(port, a, alice)["version"] == 1, "nothing moved")
    st, doc = request(port, "POST", "/api/v1/instances/%d/migrate" % a,
                      {"to_version": 9, "mapping": [{"from": "review", "to": "assess"}]}, admin)
    check(st == 404 and doc.get("field") == "to_version", "unknown version: %d %r" % (st, doc))
    st, doc = request(port, "POST", "/api/v1/instances/%d/migrate" % a,
                      {"to_version": 2, "mapping": [{"from": "review"}]}, admin)
    check(st == 400 and doc.get("field") == "mapping", "bad mapping: %d %r" % (st, doc))
    st, doc = request(port, "POST", "/api/v1/instances/%d/migrate" % a,
                      {"to_version": 2, "mapping": [{"from": "review", "to": "assess"}]}, admin)
    check(st == 200 and doc["version"] == 2, "migrated: %d %r" % (st, doc))
    tasks = doc["open_tasks"]
    check(len(tasks) == 1 and tasks[0]["id"] == task_a and tasks[0]["node_id"] == "assess",
          "task keeps its id at its new element: %r" % tasks)
    ev = history(port, a, admin, "instance_migrated")
    check(len(ev) == 1 and ev[0]["actor"] == "admin", "history: %r" % ev)

    # ---- a batch: c cannot move without the mapping, so b does not move either ----
    body = {"process": "claim", "from_version": 1, "to_version": 2, "instances": [b, c]}
    st, doc = request(port, "POST", "/api/v1/migrations", body, admin)
    check(st == 400 and [i["id"] for i in doc.get("instances", [])] == [c] and
          doc["instances"][0]["element"] == "review", "batch refused: %d %r" % (st, doc))
    check(instance(port, b, alice)["version"] == 1, "b did not move")
    st, doc = request(port, "POST", "/api/v1/migrations", dict(body, instances=[a]), admin)
    check(st == 409 and doc.get("field") == "instances", "a runs v2: %d %r" % (st, doc))
    st, doc = request(port, "POST", "/api/v1/migrations",
                      {"process": "claim", "from_version": 1, "to_version": 2,
                       "mapping": [{"from": "review", "to": "assess"}]}, admin)
    check(st == 200 and doc["migrated"] == 2 and sorted(doc["instances"]) == sorted([b, c]),
          "every active instance of v1: %d %r" % (st, doc))
    check(instance(port, b, alice)["open_tasks"][0]["node_id"] == "pay", "b at pay")

    # ---- the kept boundary timer fires at its v1 due time (1 hour, not 2) ----
    st, doc = request(port, "POST", "/api/v1/admin/clock", {"advance": "PT1H1M"}, admin)
    check(st == 200 and doc["settled"], "advance: %r" % doc)
    for iid in (a, c):
        check(instance(port, iid, alice)["status"] == "completed", "late fired for %d" % iid)
    check(instance(port, b, alice)["status"] == "active", "b has no timer at pay")

    # ---- modification ----
    d = start(port, alice)  # a v2 instance at assess
    task_d = instance(port, d, alice)["open_tasks"][0]["id"]
    tok_d = token_of_task(port, d, task_d, admin)
    st, doc = request(port, "POST", "/api/v1/instances/%d/modify" % d,
                      {"cancel_tokens": [tok_d]}, alice)
    check(st == 403, "non-admin modify: %d" % st)
    st, doc = request(port, "POST", "/api/v1/instances/%d/modify" % d,
                      {"cancel_tokens": [tok_d], "start_before": ["nope"]}, admin)
    check(st == 400 and "'nope'" in doc["detail"], "unknown element: %d %r" % (st, doc))
    st, doc = request(port, "POST", "/api/v1/instances/%d/modify" % d, {}, admin)
    check(st == 400, "no instruction: %d %r" % (st, doc))
    st, doc = request(port, "POST", "/api/v1/instances/%d/modify" % d,
                      {"cancel_tokens": [tok_d], "start_before": ["approve"],
                       "variables": {"reason": "skip the assessment"}}, admin)
    check(st == 200 and doc["status"] == "active" and
          [t["node_id"] for t in doc["open_tasks"]] == ["approve"], "moved: %d %r" % (st, doc))
    ev = history(port, d, admin, "instance_modified")
    check(len(ev) == 2 and all(e["actor"] == "admin" for e in ev) and
          ev[0]["detail"] == {"started_before": "approve"} and
          ev[1]["detail"] == {"cancelled": tok_d}, "modified history: %r" % ev)
    st, doc = request(port, "GET", "/api/v1/tasks/%d" % task_d, token=admin)
    check(st == 200 and doc["status"] == "cancelled", "old task cancelled: %r" % doc)

    # ---- the CLI through the server: back to v1, then modify ----
    url = "http://127.0.0.1:%d" % port
    run("migrate", str(d), "--to", "1", expect=1, server=url, token=admin)
    r = run("migrate", str(d), "--to", "1", "--map", "approve=pay", server=url, token=admin)
    check("migrated instance %d to version 1" % d in r.stdout, "cli migrate: %r" % r.stdout)
    check(instance(port, d, alice)["version"] == 1, "d on v1")
    task_pay = instance(port, d, alice)["open_tasks"][0]["id"]
    tok = token_of_task(port, d, task_pay, admin)
    run("modify", str(d), "--cancel-token", str(tok), server=url, token=admin)
    check(instance(port, d, alice)["status"] == "cancelled", "last token cancelled")
    run("modify", str(d), "--start-before", "pay", expect=3, server=url, token=admin)

    srv.stop()
    SERVERS.remove(srv)
    # ---- the CLI on the database ----
    r = run("migrate", "--process", "claim", "--from", "2", "--to", "1", "--json")
    check(json.loads(r.stdout)["migrated"] == 1, "cli batch: %r" % r.stdout)  # b, at pay
    run("migrate", "--process", "claim", "--to", "2", expect=1)  # --from is missing
    run("migrate", str(b), "--to", "7", expect=2)
    run("modify", str(b), "--start-before", "review", "--as", "root")
    r = run("show", str(b), "--json")
    check("review" in r.stdout and "pay" in r.stdout, "two tokens: %s" % r.stdout)

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
