#!/usr/bin/env python3
"""End-to-end test of BPMN timer events over HTTP on `flowd serve --test-clock`: a bad
timer text is refused at deploy with its line and column; a timer start event starts one
instance per cycle occurrence; a token waits at an intermediate catch event; a
non-interrupting boundary cycle sends chasers while the task stays, an interrupting one
cancels the task; the history records timer_fired. No real sleeps: the clock endpoint
moves time and waits for what came due."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timers_common import Failed, Server, add_people, check, request  # noqa: E402

TMP = tempfile.mkdtemp(prefix="flowd-timer-events-")
DB = os.path.join(TMP, "flowd.db")

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
    targetNamespace="http://t">
"""

DAILY = HEAD + """  <bpmn:process id="daily" isExecutable="true">
    <bpmn:startEvent id="ts">
      <bpmn:timerEventDefinition><bpmn:timeCycle>R2/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:startEvent>
    <bpmn:userTask id="review"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="ts" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

DEAL = HEAD + """  <bpmn:process id="deal" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateCatchEvent id="cool_off">
      <bpmn:timerEventDefinition><bpmn:timeDuration>=wait</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="call"/>
    <bpmn:boundaryEvent id="chase" attachedToRef="call" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeCycle>R2/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:boundaryEvent id="give_up" attachedToRef="call">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT5H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="remind"/>
    <bpmn:endEvent id="end"/>
    <bpmn:endEvent id="lost"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="cool_off"/>
    <bpmn:sequenceFlow id="f2" sourceRef="cool_off" targetRef="call"/>
    <bpmn:sequenceFlow id="f3" sourceRef="call" targetRef="end"/>
    <bpmn:sequenceFlow id="f4" sourceRef="chase" targetRef="remind"/>
    <bpmn:sequenceFlow id="f5" sourceRef="give_up" targetRef="lost"/>
  </bpmn:process>
</bpmn:definitions>
"""

BAD = HEAD + """  <bpmn:process id="bad" isExecutable="true">
    <bpmn:startEvent id="s">
      <bpmn:timerEventDefinition>
        <bpmn:timeDate>2026-02-30T09:00:00Z</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:startEvent>
  </bpmn:process>
</bpmn:definitions>
"""

SERVERS = []


def deploy(port, admin, xml):
    return request(port, "POST", "/api/v1/deployments", raw=xml.encode(), token=admin,
                   ctype="application/xml")


def advance(port, admin, duration):
    st, doc = request(port, "POST", "/api/v1/admin/clock", {"advance": duration}, admin)
    check(st == 200 and doc["settled"], "advance %s: %r" % (duration, doc))


def instances(port, admin, key):
    st, doc = request(port, "GET", "/api/v1/instances?process_key=" + key, token=admin)
    check(st == 200, "instances: %r" % doc)
    return doc["items"]


def instance(port, admin, iid):
    st, doc = request(port, "GET", "/api/v1/instances/%d" % iid, token=admin)
    check(st == 200, "instance: %r" % doc)
    return doc


def open_at(port, admin, iid):
    return sorted(t["node_id"] for t in instance(port, admin, iid)["open_tasks"])


def main():
    srv = Server(DB, os.path.join(TMP, "server.log"))
    SERVERS.append(srv)
    admin = add_people(DB)["admin"]
    port = srv.port

    st, doc = deploy(port, admin, BAD)
    check(st == 422, "bad timeDate refused: %d %r" % (st, doc))
    check("day 30 is out of range for 2026-02" in doc["detail"], "names the day: %r" % doc)
    check(doc.get("line") == 7 and doc.get("column") == 32, "line and column: %r" % doc)
    check(doc.get("element") == "s", "element: %r" % doc)

    st, doc = deploy(port, admin, DAILY)
    check(st in (200, 201), "deploy daily: %r" % doc)
    st, doc = deploy(port, admin, DEAL)
    check(st in (200, 201), "deploy deal: %r" % doc)
    st, doc = request(port, "POST", "/api/v1/instances", {"process_key": "daily"}, admin)
    check(st == 422 and "timer start events" in doc["detail"], "daily starts by timer: %r" % doc)

    st, doc = request(port, "POST", "/api/v1/instances",
                      {"process_key": "deal", "variables": {"wait": "PT30M"}}, admin)
    check(st == 201, "start deal: %r" % doc)
    iid = doc["id"]
    check(open_at(port, admin, iid) == [], "waiting at the catch event")

    advance(port, admin, "PT30M")  # 11:30: the cool-off is over
    check(open_at(port, admin, iid) == ["call"], "call is open")
    check(len(instances(port, admin, "daily")) == 0, "no daily yet")

    advance(port, admin, "PT30M")  # 12:00: first daily
    check(len(instances(port, admin, "daily")) == 1, "one daily")
    advance(port, admin, "PT30M")  # 12:30: first chase
    check(open_at(port, admin, iid) == ["call", "remind"], "chased once, call stays")
    advance(port, admin, "PT1H")  # 13:30: second chase, second (last) daily
    check(open_at(port, admin, iid) == ["call", "remind", "remind"], "chased twice")
    check(len(instances(port, admin, "daily")) == 2, "two dailies")
    advance(port, admin, "PT2H")  # 15:30: R2 used up, nothing more
    check(len(instances(port, admin, "daily")) == 2, "still two dailies")
    check(open_at(port, admin, iid) == ["call", "remind", "remind"], "no third chase")
    advance(port, admin, "PT1H")  # 16:30: give up (5 h after 11:30)
    check(open_at(port, admin, iid) == ["remind", "remind"], "call interrupted")

    st, doc = request(port, "GET", "/api/v1/instances/%d/history" % iid, token=admin)
    check(st == 200, "history: %r" % doc)
    fired = [e["node_id"] for e in doc["items"] if e["type"] == "timer_fired"]
    check(fired == ["cool_off", "chase", "chase", "give_up"], "timer_fired: %r" % fired)
    check(srv.stop() == 0, "SIGTERM exits 0")
    print("test_timer_events: all checks passed")


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
