#!/usr/bin/env python3
"""End-to-end test of DMN decisions over HTTP on a real `flowd serve`: a DMN document is
deployed through POST /api/v1/deployments (answered under "decisions"), listed by GET
/api/v1/decisions, evaluated by POST /api/v1/decisions/{key}/evaluate (required decisions,
a COLLECT list, a version, the errors: unknown decision 404, UNIQUE conflict 422, missing
variable 400, bad body 400), and used by a process whose business rule task runs to its
end; `flowd decide` evaluates the same decision on the database, on the server and from a
file. Python standard library only."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timers_common import FLOWD, Failed, Server, check, cli, request  # noqa: E402

TMP = tempfile.mkdtemp(prefix="flowd-dmn-")
DB = os.path.join(TMP, "flowd.db")

DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs" name="Pricing"
    namespace="http://flowd.test">
  <decision id="discount" name="Discount">
    <decisionTable id="t1" hitPolicy="UNIQUE">
      <input id="i1" label="Amount"><inputExpression typeRef="number"><text>amount</text>
      </inputExpression></input>
      <output id="o1" name="rate" typeRef="number"/>
      <rule id="small"><inputEntry><text>&lt; 1000</text></inputEntry>
        <outputEntry><text>RATE_SMALL</text></outputEntry></rule>
      <rule id="big"><inputEntry><text>&gt;= 1000</text></inputEntry>
        <outputEntry><text>0.1</text></outputEntry></rule>
      <rule id="huge"><inputEntry><text>&gt;= 1000000</text></inputEntry>
        <outputEntry><text>0.5</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <decision id="checks" name="Checks">
    <decisionTable id="t2" hitPolicy="COLLECT">
      <input id="i2"><inputExpression><text>amount</text></inputExpression></input>
      <output id="o2" name="check"/>
      <rule id="c1"><inputEntry><text>&gt; 0</text></inputEntry>
        <outputEntry><text>"credit"</text></outputEntry></rule>
      <rule id="c2"><inputEntry><text>&gt; 500</text></inputEntry>
        <outputEntry><text>"manager"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <decision id="offer" name="Offer">
    <informationRequirement><requiredDecision href="#discount"/></informationRequirement>
    <informationRequirement><requiredDecision href="#checks"/></informationRequirement>
    <literalExpression><text>{price: amount * (1 - Discount), checks: Checks}</text>
    </literalExpression>
  </decision>
</definitions>
"""

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="http://t">
  <bpmn:process id="quote" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="price"/>
    <bpmn:businessRuleTask id="price">
      <bpmn:extensionElements>
        <zeebe:calledDecision decisionId="offer" resultVariable="offer"/>
      </bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f2" sourceRef="price" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>
"""

SERVERS = []


def evaluate(port, token, key, body, want_status=200):
    st, doc = request(port, "POST", "/api/v1/decisions/%s/evaluate" % key, body, token)
    check(st == want_status, "evaluate %s %r: %d %r" % (key, body, st, doc))
    return doc


def deploy(port, token, xml):
    st, doc = request(port, "POST", "/api/v1/deployments", raw=xml.encode(), token=token,
                      ctype="application/xml")
    check(st in (200, 201), "deploy: %d %r" % (st, doc))
    return doc


def flowd(*args):
    env = dict(os.environ)
    env.pop("FLOWD_DB", None)
    env.pop("FLOWD_SERVER", None)
    return subprocess.run([FLOWD] + list(args), capture_output=True, text=True, env=env)


def main():
    cli(DB, "user", "add", "admin", "--admin", "--password-stdin", stdin="admin-pw-1\n")
    admin = json.loads(cli(DB, "token", "create", "--user", "admin", "--scope", "admin",
                           "--json"))["token"]
    srv = Server(DB, os.path.join(TMP, "server.log"))
    SERVERS.append(srv)
    port = srv.port

    doc = deploy(port, admin, DMN.replace("RATE_SMALL", "0.05"))
    check(doc["processes"] == [] and [d["key"] for d in doc["decisions"]] ==
          ["discount", "checks", "offer"], "deployed decisions: %r" % doc)
    check(all(d["version"] == 1 and d["created"] for d in doc["decisions"]), "v1: %r" % doc)
    doc = deploy(port, admin, DMN.replace("RATE_SMALL", "0.05"))
    check(not any(d["created"] for d in doc["decisions"]), "same XML is unchanged: %r" % doc)

    doc = evaluate(port, admin, "discount", {"variables": {"amount": 2500}})
    check(doc == {"decision": "discount", "result": 0.1}, "discount: %r" % doc)
    doc = evaluate(port, admin, "checks", {"variables": {"amount": 800}})
    check(doc["result"] == ["credit", "manager"], "collect: %r" % doc)
    doc = evaluate(port, admin, "offer", {"variables": {"amount": 200}})
    check(doc["result"] == {"price": 190, "checks": ["credit"]}, "required decisions: %r" % doc)
    doc = evaluate(port, admin, "Offer", {"variables": {"amount": 200}}, 404)
    check(doc["status"] == 404, "by id only over HTTP: %r" % doc)

    # errors: unknown, UNIQUE conflict, missing variable, bad body
    doc = evaluate(port, admin, "nope", {"variables": {}}, 404)
    doc = evaluate(port, admin, "discount", {"variables": {"amount": 2000000}}, 422)
    check("'big' and 'huge'" in doc["detail"], "UNIQUE conflict names the rules: %r" % doc)
    doc = evaluate(port, admin, "discount", {"variables": {}}, 400)
    check("no variable found for name 'amount'" in doc["detail"], "missing variable: %r" % doc)
    evaluate(port, admin, "discount", {"variables": [1]}, 400)
    evaluate(port, admin, "discount", {"vars": {}}, 400)
    st, doc = request(port, "POST", "/api/v1/decisions/discount/evaluate", {"variables": {}})
    check(st == 401, "evaluate needs credentials: %d" % st)

    # a second version; the first stays reachable
    doc = deploy(port, admin, DMN.replace("RATE_SMALL", "0.07"))
    check([d["version"] for d in doc["decisions"]] == [2, 2, 2], "v2: %r" % doc)
    doc = evaluate(port, admin, "discount", {"variables": {"amount": 10}})
    check(doc["result"] == 0.07, "latest: %r" % doc)
    doc = evaluate(port, admin, "discount", {"variables": {"amount": 10}, "version": 1})
    check(doc["result"] == 0.05, "version 1: %r" % doc)

    st, doc = request(port, "GET", "/api/v1/decisions", token=admin)
    check(st == 200 and sorted((d["key"], d["version"], d["versions"]) for d in doc["items"]) ==
          [("checks", 2, 2), ("discount", 2, 2), ("offer", 2, 2)], "list: %r" % doc)

    # a process whose business rule task uses the decision runs to its end
    deploy(port, admin, BPMN)
    st, doc = request(port, "POST", "/api/v1/instances",
                      {"process_key": "quote", "variables": {"amount": 100}}, admin)
    check(st == 201, "start: %r" % doc)
    iid = doc["id"]
    st, doc = request(port, "GET", "/api/v1/instances/%d" % iid, token=admin)
    check(doc["status"] == "completed", "instance completed: %r" % doc)
    check(doc["variables"]["offer"] == {"price": 93, "checks": ["credit"]},
          "result variable: %r" % doc)
    st, doc = request(port, "GET", "/api/v1/instances/%d/history" % iid, token=admin)
    check(any(e["type"] == "decision_evaluated" for e in doc["items"]), "event: %r" % doc)

    # flowd deploy FILE.dmn through the server: the answer's decisions are read back
    path = os.path.join(TMP, "pricing.dmn")
    with open(path, "w") as f:
        f.write(DMN.replace("RATE_SMALL", "0.08"))
    r = flowd("deploy", "--server", "http://127.0.0.1:%d" % port, "--token", admin, path)
    check(r.returncode == 0 and "deployed decision discount version 3" in r.stdout,
          "deploy remote: %r" % (r,))

    # flowd decide: remote, local, and from a file without deploying
    r = flowd("decide", "--server", "http://127.0.0.1:%d" % port, "--token", admin, "offer",
              "--var", "amount=1000")
    check(r.returncode == 0 and json.loads(r.stdout) == {"price": 900, "checks":
                                                         ["credit", "manager"]},
          "decide remote: %r" % (r,))
    r = flowd("decide", "--server", "http://127.0.0.1:%d" % port, "--token", admin, "discount",
              "--var", "amount=2000000")
    check(r.returncode == 3 and "UNIQUE" in r.stderr, "decide remote refusal: %r" % (r,))
    check(srv.stop() == 0, "SIGTERM exits 0")
    r = flowd("decide", "--db", DB, "checks", "--var", "amount=5")
    check(r.returncode == 0 and json.loads(r.stdout) == ["credit"], "decide local: %r" % (r,))
    r = flowd("decide", "--db", DB, "discount", "--var", "amount=5")
    check(r.returncode == 0 and r.stdout == "0.08\n", "decide local, latest: %r" % (r,))
    with open(path, "w") as f:
        f.write(DMN.replace("RATE_SMALL", "0.01"))
    r = flowd("decide", "--file", path, "Discount", "--var", "amount=3")
    check(r.returncode == 0 and r.stdout == "0.01\n", "decide file by name: %r" % (r,))
    with open(path, "w") as f:
        f.write(DMN.replace("RATE_SMALL", "0.01 +"))
    r = flowd("decide", "--file", path, "discount", "--var", "amount=3")
    check(r.returncode == 4 and "line 10, column" in r.stderr, "syntax error: %r" % (r,))
    print("test_decisions: all checks passed")


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
