"""Shared by the timer end-to-end tests: a `flowd serve --test-clock` process on a free
port, HTTP helpers, the people of the deadline process (alice in sales under company,
headed by boss; carol holds sales_head, dan is the director) and the process itself.
Python standard library only."""
import http.client
import json
import os
import re
import subprocess
import sys

FLOWD = os.environ.get("FLOWD_BINARY", "build/flowd")
T0 = "2026-11-23T11:00:00Z"

DEAL_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:flowd="https://flowd.dev/schema/bpmn/1.0" id="defs" targetNamespace="http://t">
  <bpmn:process id="deal" name="Deal" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="offer"/>
    <bpmn:userTask id="offer" name="Offer" camunda:assignee="alice">
      <bpmn:extensionElements>
        <flowd:stage duration="PT1H" remindBefore="PT15M">
          <flowd:raci responsible="sales" accountable="sales_head"/>
          <flowd:escalation after="PT2H" to="director"/>
        </flowd:stage>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="offer" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        raise Failed(what)


class Server:
    def __init__(self, db, log_path, test_clock=True, now=T0):
        env = dict(os.environ, FLOWD_ARGON2_MEMORY_KIB="64", FLOWD_ARGON2_ITERATIONS="1")
        env.pop("FLOWD_DB", None)
        if now:
            env["FLOWD_NOW"] = now
        args = [FLOWD, "serve", "--db", db, "--port", "0", "--threads", "8"]
        if test_clock:
            args.append("--test-clock")
        self.log = open(log_path, "a")
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, env=env,
                                  text=True)
        line = self.p.stdout.readline()
        m = re.match(r"listening on http://127\.0\.0\.1:(\d+)$", line.strip())
        check(m is not None, "server printed its address: %r" % line)
        self.port = int(m.group(1))

    def stop(self, kill=False):
        if kill:
            self.p.kill()
        else:
            self.p.terminate()
        rc = self.p.wait(timeout=60)
        self.log.close()
        return rc


def request(port, method, path, body=None, token=None, raw=None, ctype=None, timeout=120):
    h = {}
    if token:
        h["Authorization"] = "Bearer " + token
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if ctype:
        h["Content-Type"] = ctype
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        payload = r.read()
    finally:
        conn.close()
    doc = json.loads(payload) if payload and "json" in (r.getheader("Content-Type") or "") else None
    return r.status, doc


def cli(db, *args, stdin=None):
    env = dict(os.environ, FLOWD_ARGON2_MEMORY_KIB="64", FLOWD_ARGON2_ITERATIONS="1")
    env.pop("FLOWD_DB", None)
    r = subprocess.run([FLOWD] + list(args) + ["--db", db], input=stdin, capture_output=True,
                       text=True, env=env)
    check(r.returncode == 0, "flowd %s: %s" % (" ".join(args), r.stderr))
    return r.stdout


def add_people(db):
    """Users, roles, departments and a write token each; returns the tokens by login."""
    for role in ("sales", "sales_head", "director"):
        cli(db, "role", "add", role)
    cli(db, "user", "add", "admin", "--admin", "--password-stdin", stdin="admin-pw-1\n")
    cli(db, "user", "add", "boss", "--password-stdin", stdin="boss-pw-1\n")
    cli(db, "department", "add", "company", "--head", "boss")
    cli(db, "department", "add", "sales", "--parent", "company")
    cli(db, "user", "add", "alice", "--department", "sales", "--role", "sales",
        "--password-stdin", stdin="alice-pw-1\n")
    cli(db, "user", "add", "carol", "--role", "sales_head", "--password-stdin",
        stdin="carol-pw-1\n")
    cli(db, "user", "add", "dan", "--role", "director", "--password-stdin", stdin="dan-pw-1\n")
    tokens = {}
    for login in ("admin", "boss", "alice", "carol", "dan"):
        scope = "admin" if login == "admin" else "write"
        tokens[login] = json.loads(cli(db, "token", "create", "--user", login, "--scope", scope,
                                       "--json"))["token"]
    return tokens


def deploy(port, admin):
    st, doc = request(port, "POST", "/api/v1/deployments", raw=DEAL_BPMN.encode(), token=admin,
                      ctype="application/xml")
    check(st in (200, 201), "deploy: %r" % doc)
