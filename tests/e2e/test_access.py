#!/usr/bin/env python3
"""End-to-end test of who may see and do what in `flowd serve` (docs/auth.md): a role
matrix over HTTP -- admin, head of a department, head of its sub-department, a member of
the sub-department, assignee, candidate by role, instance starter, owner, RACI consulted
and informed roles, a stranger, tokens of read/write/admin scope and a cookie session --
against every record route (instances list/one/history/cancel, tasks
list/one/claim/unclaim/assign/complete/action), the process routes and the people routes,
each with its exact expected answer. Also: the first admin from FLOWD_ADMIN_LOGIN (made
once, password printed once), session expiry (idle and absolute, 401 problem+json, cookie
cleared, CSRF still enforced), and /metrics refusing anonymous requests from a
non-loopback address. Python standard library only."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

FLOWD = os.environ.get("FLOWD_BINARY", "build/flowd")
TMP = tempfile.mkdtemp(prefix="flowd-access-")
DB = os.path.join(TMP, "flowd.db")
FAILED = []
SERVERS = []
CHECKS = [0]

PROCESSES = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:flowd="https://flowd.dev/schema/bpmn/1.0" id="d" targetNamespace="t">
  <bpmn:process id="mx" isExecutable="true">
    <bpmn:startEvent id="s1"/>
    <bpmn:sequenceFlow id="a1" sourceRef="s1" targetRef="work"/>
    <bpmn:userTask id="work" name="Work" camunda:assignee="=who" camunda:candidateGroups="clerk">
      <bpmn:extensionElements><flowd:stage><flowd:raci responsible="clerk"
        accountable="clerk" consulted="lawyer" informed="auditor"/>
        <flowd:mainAction kind="offer"/></flowd:stage></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="a2" sourceRef="work" targetRef="e1"/>
    <bpmn:endEvent id="e1"/>
  </bpmn:process>
  <bpmn:process id="ro" isExecutable="true">
    <bpmn:startEvent id="s2"/>
    <bpmn:sequenceFlow id="b1" sourceRef="s2" targetRef="roletask"/>
    <bpmn:userTask id="roletask" name="Role task" camunda:candidateGroups="clerk"/>
    <bpmn:sequenceFlow id="b2" sourceRef="roletask" targetRef="e2"/>
    <bpmn:endEvent id="e2"/>
  </bpmn:process>
  <bpmn:process id="vault" isExecutable="true">
    <bpmn:startEvent id="s3"/>
    <bpmn:sequenceFlow id="c1" sourceRef="s3" targetRef="open"/>
    <bpmn:userTask id="open" name="Open the vault" camunda:candidateGroups="vault_keeper"/>
    <bpmn:sequenceFlow id="c2" sourceRef="open" targetRef="e3"/>
    <bpmn:endEvent id="e3"/>
  </bpmn:process>
</bpmn:definitions>
"""

# Records of one "world" (see make_world):
#   A: mx by stan, assignee asa, owner olly -- RACI lawyer (C) and auditor (I)
#   B: ro by mia (member of the sub-department), a role-only task for clerks
#   C: vault by root, for vault keepers (nobody holds the role)
#   D: mx by root, assignee mia
RECORDS = "ABCD"
ASSIGNEE = {"A": "asa", "B": None, "C": None, "D": "mia"}
ACTION_KIND = {"A": "offer", "B": "call", "C": "call", "D": "offer"}

# principal -> record -> (task access, instance access): N none, R read, W write
W, R, N = "W", "R", "N"
EXPECT = {
    "root": {"A": (W, W), "B": (W, W), "C": (W, W), "D": (W, W)},
    # heads: B belongs to them (mia started it), D too (mia is the assignee)
    "hal": {"A": (N, N), "B": (W, W), "C": (N, N), "D": (W, W)},
    "sue": {"A": (N, N), "B": (W, W), "C": (N, N), "D": (W, W)},
    # a member sees the instance she started, not its role task; and her own task
    "mia": {"A": (N, N), "B": (N, W), "C": (N, N), "D": (W, W)},
    "asa": {"A": (W, W), "B": (N, N), "C": (N, N), "D": (N, N)},
    "cat": {"A": (W, W), "B": (W, W), "C": (N, N), "D": (W, W)},
    "stan": {"A": (N, W), "B": (N, N), "C": (N, N), "D": (N, N)},
    "olly": {"A": (N, W), "B": (N, N), "C": (N, N), "D": (N, N)},
    "con": {"A": (R, R), "B": (N, N), "C": (N, N), "D": (R, R)},
    "inf": {"A": (R, R), "B": (N, N), "C": (N, N), "D": (R, R)},
    "zed": {"A": (N, N), "B": (N, N), "C": (N, N), "D": (N, N)},
}
HEADS = {"hal", "sue"}
ADMINS = {"root"}


def check(cond, what):
    CHECKS[0] += 1
    if not cond:
        FAILED.append(what)
        print("FAIL:", what, file=sys.stderr)
        raise SystemExit(1)


class Server:
    def __init__(self, args=(), env_extra=None, addr=None):
        SERVERS.append(self)
        env = dict(os.environ)
        env["FLOWD_ARGON2_MEMORY_KIB"] = "64"
        env["FLOWD_ARGON2_ITERATIONS"] = "1"
        for k in ("FLOWD_DB", "FLOWD_ADMIN_LOGIN", "FLOWD_ADMIN_PASSWORD",
                  "FLOWD_SESSION_IDLE", "FLOWD_SESSION_MAX", "FLOWD_CONFIG"):
            env.pop(k, None)
        env.update(env_extra or {})
        cmd = [FLOWD, "serve", "--db", DB, "--port", "0"] + list(args)
        if addr:
            cmd += ["--addr", addr]
        self.log = open(os.path.join(TMP, "server.log"), "a")
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, env=env,
                                  text=True)
        line = self.p.stdout.readline()
        m = re.match(r"listening on http://[0-9.]+:(\d+)$", line.strip())
        check(m is not None, "server printed its address: %r" % line)
        self.port = int(m.group(1))

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=30)
        self.log.close()
        return rc


def request(port, method, path, body=None, token=None, headers=None, raw=None, host=None):
    h = {}
    if token:
        h["Authorization"] = "Bearer " + token
    if headers:
        h.update(headers)
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection(host or "127.0.0.1", port, timeout=30)
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    payload = r.read()
    ctype = r.getheader("Content-Type") or ""
    conn.close()
    doc = None
    if "json" in ctype and payload:
        doc = json.loads(payload)
    return r.status, doc, r


def problem(status, doc, r, code, what):
    check(status == code, "%s: status %d, wanted %d: %r" % (what, status, code, doc))
    check(doc is not None and doc.get("status") == code and
          (r.getheader("Content-Type") or "").startswith("application/problem+json"),
          "%s: problem+json %d: %r" % (what, code, doc))


class Who:
    """A principal: a bearer token, or a session cookie with its CSRF token."""

    def __init__(self, name, login, token=None, cookie=None, csrf=None, scope="write"):
        self.name, self.login, self.token = name, login, token
        self.cookie, self.csrf, self.scope = cookie, csrf, scope

    def call(self, port, method, path, body=None):
        headers = {}
        if self.cookie:
            headers["Cookie"] = self.cookie
            if method != "GET":
                headers["X-CSRF-Token"] = self.csrf
        return request(port, method, path, body, token=self.token, headers=headers)


def login(port, user, password):
    st, doc, r = request(port, "POST", "/api/v1/login", {"login": user, "password": password})
    check(st == 200, "login %s: %r" % (user, doc))
    return r.getheader("Set-Cookie").split(";")[0], doc["csrf_token"], doc


def first_admin():
    """FLOWD_ADMIN_LOGIN on a fresh database makes the admin once, password printed once."""
    srv = Server(env_extra={"FLOWD_ADMIN_LOGIN": "root"})
    line = srv.p.stdout.readline().strip()
    m = re.match(r"first admin 'root' created with password (\S+) \(shown once\)$", line)
    check(m is not None, "first admin line: %r" % line)
    password = m.group(1)
    check(len(password) == 20, "generated password of 20 characters")
    cookie, csrf, _ = login(srv.port, "root", password)
    check(srv.stop() == 0, "stop")
    # Second start: an admin exists -- nothing made, nothing printed, the password stays.
    srv = Server(env_extra={"FLOWD_ADMIN_LOGIN": "root2", "FLOWD_ADMIN_PASSWORD": "x-pw-2"})
    check(srv.stop() == 0, "stop")
    rest = srv.p.stdout.read()
    check(rest == "", "nothing printed on the second start: %r" % rest)
    return password


def setup(port, root_password):
    cookie, csrf, _ = login(port, "root", root_password)
    root_session = Who("root-session", "root", cookie=cookie, csrf=csrf, scope="admin")
    st, doc, _ = root_session.call(port, "POST", "/api/v1/tokens",
                                   {"user": "root", "scope": "admin"})
    check(st == 201, "admin token by session: %r" % doc)
    root = Who("root", "root", token=doc["token"], scope="admin")
    st, _, _ = request(port, "POST", "/api/v1/users", {"login": "root2", "password": "p"},
                       token=root.token)
    check(st == 201, "root2 was not made on the second start, so it can be added now")
    st, doc, _ = request(port, "POST", "/api/v1/deployments", raw=PROCESSES.encode(),
                         token=root.token, headers={"Content-Type": "application/xml"})
    check(st == 201 and len(doc["processes"]) == 3, "deploy: %r" % doc)
    for role in ("clerk", "lawyer", "auditor", "vault_keeper"):
        st, doc, _ = root.call(port, "POST", "/api/v1/roles", {"name": role})
        check(st == 201, "role %s: %r" % (role, doc))
    users = [("hal", None, []), ("sue", None, [])]
    for login_, dept, roles in users:
        st, doc, _ = root.call(port, "POST", "/api/v1/users",
                               {"login": login_, "password": login_ + "-pw", "roles": roles})
        check(st == 201, "user %s: %r" % (login_, doc))
    st, doc, _ = root.call(port, "POST", "/api/v1/departments", {"name": "Sales", "head": "hal"})
    check(st == 201, "department Sales: %r" % doc)
    st, doc, _ = root.call(port, "POST", "/api/v1/departments",
                           {"name": "Sales EU", "parent": "Sales", "head": "sue"})
    check(st == 201, "department Sales EU: %r" % doc)
    users = [("mia", "Sales EU", []), ("asa", None, []), ("cat", None, ["clerk"]),
             ("stan", None, []), ("olly", None, []), ("con", None, ["lawyer"]),
             ("inf", None, ["auditor"]), ("zed", None, [])]
    for login_, dept, roles in users:
        body = {"login": login_, "password": login_ + "-pw", "roles": roles}
        if dept:
            body["department"] = dept
        st, doc, _ = root.call(port, "POST", "/api/v1/users", body)
        check(st == 201, "user %s: %r" % (login_, doc))
    who = {"root": root, "root-session": root_session}
    for login_ in EXPECT:
        if login_ == "root":
            continue
        st, doc, _ = root.call(port, "POST", "/api/v1/tokens", {"user": login_, "scope": "write"})
        check(st == 201, "token of %s: %r" % (login_, doc))
        who[login_] = Who(login_, login_, token=doc["token"])
    st, doc, _ = root.call(port, "POST", "/api/v1/tokens", {"user": "asa", "scope": "read"})
    who["asa-read"] = Who("asa-read", "asa", token=doc["token"], scope="read")
    st, doc, _ = root.call(port, "POST", "/api/v1/tokens", {"user": "root", "scope": "write"})
    who["root-write"] = Who("root-write", "root", token=doc["token"])
    st, doc, _ = root.call(port, "POST", "/api/v1/tokens", {"user": "cat", "scope": "admin"})
    check(st == 422, "no admin-scope token for a non-admin: %r" % doc)
    cookie, csrf, _ = login(port, "cat", "cat-pw")
    who["cat-session"] = Who("cat-session", "cat", cookie=cookie, csrf=csrf)
    return who


def make_world(port, who):
    """Start A, B, C, D; returns record -> (instance id, task id)."""
    starts = {"A": ("stan", "mx", {"who": "asa", "owner": "olly"}),
              "B": ("mia", "ro", {}),
              "C": ("root", "vault", {}),
              "D": ("root", "mx", {"who": "mia"})}
    world = {}
    for rec in RECORDS:
        starter, key, variables = starts[rec]
        st, doc, _ = who[starter].call(port, "POST", "/api/v1/instances",
                                       {"process_key": key, "variables": variables})
        check(st == 201 and len(doc["open_tasks"]) == 1, "start %s: %r" % (rec, doc))
        check(doc["started_by"] == starter, "started_by %s" % rec)
        world[rec] = (doc["id"], doc["open_tasks"][0]["id"])
    return world


def expectations(p):
    """Access of principal p (a Who) per record, as (task, instance)."""
    table = EXPECT[p.login]
    return {rec: table[rec] for rec in RECORDS}


def check_reads(port, who, world):
    for name, p in sorted(who.items()):
        exp = expectations(p)
        st, doc, _ = p.call(port, "GET", "/api/v1/instances?limit=1000")
        check(st == 200, "%s lists instances" % name)
        listed = {i["id"] for i in doc["items"]}
        for rec in RECORDS:
            iid, tid = world[rec]
            t_acc, i_acc = exp[rec]
            what = "%s instance %s" % (name, rec)
            check((iid in listed) == (i_acc != N), "%s: in list %s" % (what, iid in listed))
            st, doc, r = p.call(port, "GET", "/api/v1/instances/%d" % iid)
            if i_acc == N:
                problem(st, doc, r, 404, what)
            else:
                check(st == 200 and doc["access"] == {W: "write", R: "read"}[i_acc],
                      "%s: %d %r" % (what, st, doc and doc.get("access")))
            st, doc, r = p.call(port, "GET", "/api/v1/instances/%d/history" % iid)
            if i_acc == N:
                problem(st, doc, r, 404, what + " history")
            else:
                check(st == 200 and doc["items"][0]["type"] == "instance_started",
                      what + " history")
        st, doc, _ = p.call(port, "GET", "/api/v1/tasks?status=all&limit=1000")
        check(st == 200, "%s lists tasks" % name)
        listed = {t["id"] for t in doc["items"]}
        for rec in RECORDS:
            iid, tid = world[rec]
            t_acc = exp[rec][0]
            what = "%s task %s" % (name, rec)
            check((tid in listed) == (t_acc != N), "%s: in list %s" % (what, tid in listed))
            st, doc, r = p.call(port, "GET", "/api/v1/tasks/%d" % tid)
            if t_acc == N:
                problem(st, doc, r, 404, what)
            else:
                check(st == 200 and doc["id"] == tid, "%s: %d" % (what, st))
        # the task list of one instance follows the same rule
        iid, tid = world["A"]
        st, doc, _ = p.call(port, "GET", "/api/v1/tasks?instance=%d&status=all" % iid)
        check(st == 200 and ([t["id"] for t in doc["items"]] == ([tid] if exp["A"][0] != N
                                                                 else [])),
              "%s tasks of A: %r" % (name, doc))
        # processes: every authenticated principal reads them
        for path in ("/api/v1/processes", "/api/v1/processes/mx",
                     "/api/v1/processes/mx/versions", "/api/v1/processes/mx/xml"):
            st, _, _ = p.call(port, "GET", path)
            check(st == 200, "%s GET %s: %d" % (name, path, st))


def expected_write(route, p, rec):
    """HTTP status principal p gets for a write route on record rec of a fresh world."""
    if p.scope == "read":
        return 403  # the scope, whatever the record: its existence is not at stake
    t_acc, i_acc = expectations(p)[rec]
    acc = i_acc if route == "cancel" else t_acc
    if acc == N:
        return 404
    if acc == R:
        return 403
    admin = p.login in ADMINS
    head = p.login in HEADS
    assignee = ASSIGNEE[rec]
    if route == "claim":
        return 200 if assignee in (None, p.login) else 409
    if route == "unclaim":
        return 200 if assignee in (None, p.login) or admin or head else 422
    if route == "assign":
        return 200 if admin or head else 422
    return 200  # cancel, complete, action


def write_call(port, p, route, world, rec):
    iid, tid = world[rec]
    if route == "cancel":
        return p.call(port, "POST", "/api/v1/instances/%d/cancel" % iid, {"reason": "matrix"})
    if route == "assign":
        return p.call(port, "POST", "/api/v1/tasks/%d/assign" % tid, {"assignee": "zed"})
    if route == "action":
        return p.call(port, "POST", "/api/v1/tasks/%d/action" % tid, {"kind": ACTION_KIND[rec]})
    if route == "complete":
        return p.call(port, "POST", "/api/v1/tasks/%d/complete" % tid, {"variables": {}})
    return p.call(port, "POST", "/api/v1/tasks/%d/%s" % (tid, route), {})


def check_writes(port, who):
    for route in ("cancel", "claim", "unclaim", "assign", "complete", "action"):
        for name, p in sorted(who.items()):
            world = make_world(port, who)
            for rec in RECORDS:
                want = expected_write(route, p, rec)
                st, doc, r = write_call(port, p, route, world, rec)
                what = "%s %s %s" % (name, route, rec)
                if want == 200:
                    check(st == 200, "%s: %d %r" % (what, st, doc))
                    iid, tid = world[rec]
                    if route == "cancel":
                        check(doc["status"] == "cancelled", what)
                    elif route == "complete":
                        check(doc["status"] == "completed", what)
                    elif route == "claim":
                        check(doc["assignee"] == p.login, what)
                    elif route == "unclaim":
                        check(doc["assignee"] is None, what)
                    elif route == "assign":
                        check(doc["assignee"] == "zed", what)
                    elif route == "action":
                        check(doc["main_action"]["done"], what)
                else:
                    problem(st, doc, r, want, what)
    # a read-scope token is refused before any record is looked at: same answer for a task
    # that does not exist
    st, doc, r = who["asa-read"].call(port, "POST", "/api/v1/tasks/999999/claim", {})
    problem(st, doc, r, 403, "read token on a missing task")
    st, doc, r = who["asa"].call(port, "POST", "/api/v1/tasks/999999/claim", {})
    problem(st, doc, r, 404, "write token on a missing task")


def check_people_routes(port, who):
    counter = [0]

    def fresh(prefix):
        counter[0] += 1
        return "%s%d" % (prefix, counter[0])

    for name, p in sorted(who.items()):
        allowed = p.login in ADMINS and p.scope == "admin"
        for path in ("/api/v1/users", "/api/v1/roles", "/api/v1/departments",
                     "/api/v1/tokens"):
            st, doc, r = p.call(port, "GET", path)
            if allowed:
                check(st == 200 and "items" in doc, "%s GET %s" % (name, path))
            else:
                problem(st, doc, r, 403, "%s GET %s" % (name, path))
        posts = [("/api/v1/users", {"login": fresh("u")}),
                 ("/api/v1/roles", {"name": fresh("r")}),
                 ("/api/v1/departments", {"name": fresh("d")}),
                 ("/api/v1/tokens", {"user": "zed", "scope": "read"})]
        for path, body in posts:
            st, doc, r = p.call(port, "POST", path, body)
            if allowed:
                check(st == 201, "%s POST %s: %r" % (name, path, doc))
                if path == "/api/v1/tokens":
                    tid = doc["id"]
            else:
                problem(st, doc, r, 403, "%s POST %s" % (name, path))
        st, doc, r = p.call(port, "POST", "/api/v1/tokens/%d/revoke" % (tid if allowed else 1),
                            {})
        if allowed:
            check(st == 204, "%s revoke: %d" % (name, st))
        else:
            problem(st, doc, r, 403, "%s revoke" % name)
        st, doc, r = p.call(port, "POST", "/api/v1/deployments", {})
        if not allowed:
            problem(st, doc, r, 403, "%s deploy" % name)


def check_idempotent_secret(port, who):
    """A token's secret is never kept for replay: the retry learns it ran, not the secret."""
    key = {"Idempotency-Key": "token-once"}
    st, doc, _ = request(port, "POST", "/api/v1/tokens", {"user": "zed", "scope": "read"},
                         token=who["root"].token, headers=key)
    check(st == 201 and doc["token"].startswith("fl_"), "token with key: %r" % doc)
    secret = doc["token"]
    st, doc, r = request(port, "POST", "/api/v1/tokens", {"user": "zed", "scope": "read"},
                         token=who["root"].token, headers=key)
    problem(st, doc, r, 409, "token retry")
    check(doc.get("field") == "Idempotency-Key", "names the key")
    con = __import__("sqlite3").connect(DB)
    rows = con.execute("SELECT body FROM idempotency").fetchall()
    con.close()
    check(all(secret.encode() not in bytes(b[0]) for b in rows), "no secret in the records")
    # login ignores the key: each attempt is checked anew (and gets its own session)
    cookies = set()
    for _ in range(2):
        st, doc, r = request(port, "POST", "/api/v1/login", {"login": "zed", "password": "zed-pw"},
                             headers={"Idempotency-Key": "login-1"})
        check(st == 200 and r.getheader("Set-Cookie"), "login with a key: %r" % doc)
        cookies.add(r.getheader("Set-Cookie"))
    check(len(cookies) == 2, "two logins, two sessions")
    # a claim's answer is replayed from the record kept with it
    world = make_world(port, who)
    tid = world["B"][1]
    key = {"Idempotency-Key": "claim-1"}
    st1, doc1, _ = request(port, "POST", "/api/v1/tasks/%d/claim" % tid, {},
                           token=who["cat"].token, headers=key)
    st2, doc2, _ = request(port, "POST", "/api/v1/tasks/%d/claim" % tid, {},
                           token=who["cat"].token, headers=key)
    check(st1 == 200 and st2 == 200 and doc1 == doc2 and doc1["assignee"] == "cat",
          "claim replay")


def session_expiry(root_password):
    """Sessions end after their idle or absolute lifetime: 401, cookie cleared."""
    for flag in ("--session-idle", "--session-max"):
        lifetime = 1.0
        srv = Server(args=[flag, "1s"])
        port = srv.port
        t0 = time.monotonic()
        cookie, csrf, doc = login(port, "zed", "zed-pw")
        st, _, _ = request(port, "GET", "/api/v1/processes", headers={"Cookie": cookie})
        if time.monotonic() - t0 < lifetime * 0.8:
            # only when the server surely answered within the lifetime: no timing guess
            check(st == 200, "%s: fresh session works" % flag)
        time.sleep(lifetime + 0.3)
        st, doc, r = request(port, "GET", "/api/v1/processes", headers={"Cookie": cookie})
        problem(st, doc, r, 401, "%s: expired session" % flag)
        sc = r.getheader("Set-Cookie") or ""
        check(sc.startswith("flowd_session=;") and "Max-Age=0" in sc,
              "%s: cookie cleared: %r" % (flag, sc))
        st, doc, r = request(port, "POST", "/api/v1/instances", {"process_key": "ro"},
                             headers={"Cookie": cookie, "X-CSRF-Token": csrf})
        problem(st, doc, r, 401, "%s: expired session cannot write, CSRF or not" % flag)
        check(srv.stop() == 0, "stop")
    # the default lifetimes: CSRF is enforced for cookie writes, and the session lasts
    srv = Server()
    port = srv.port
    cookie, csrf, doc = login(port, "zed", "zed-pw")
    st, doc, r = request(port, "POST", "/api/v1/instances", {"process_key": "ro"},
                         headers={"Cookie": cookie})
    problem(st, doc, r, 403, "cookie write without CSRF")
    check(doc["type"].endswith("/csrf"), "csrf problem type")
    st, doc, r = request(port, "POST", "/api/v1/instances", {"process_key": "ro"},
                         headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    check(st == 201 and doc["started_by"] == "zed", "cookie write with CSRF: %r" % doc)
    # bad lifetimes are refused at start
    r = subprocess.run([FLOWD, "serve", "--db", DB, "--port", "0", "--session-idle", "10x"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "--session-idle" in r.stderr, "bad duration: %r" % r.stderr)
    check(srv.stop() == 0, "stop")


def non_loopback_address():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.255.255.255", 1))  # no packet is sent
        addr = s.getsockname()[0]
    except OSError:
        addr = None
    finally:
        s.close()
    return addr if addr and not addr.startswith("127.") else None


def metrics_from_afar():
    addr = non_loopback_address()
    if not addr:
        print("test_access: no non-loopback address; /metrics from afar not checked")
        return
    srv = Server(addr="0.0.0.0")
    st, doc, r = request(srv.port, "GET", "/metrics", host=addr)
    problem(st, doc, r, 401, "/metrics from %s without credentials" % addr)
    st, _, _ = request(srv.port, "GET", "/metrics")
    check(st == 200, "/metrics from loopback")
    st, doc, _ = request(srv.port, "GET", "/healthz", host=addr)
    check(st == 200, "/healthz from afar")
    check(srv.stop() == 0, "stop")


def main():
    root_password = first_admin()
    srv = Server()
    port = srv.port
    who = setup(port, root_password)
    world = make_world(port, who)
    check_reads(port, who, world)
    # the department filter uses the same "belongs to": B (mia started it), D (mia's task)
    st, doc, _ = who["root"].call(port, "GET", "/api/v1/tasks?department=Sales%20EU&status=all"
                                  "&limit=1000")
    mine = {t["id"] for t in doc["items"]} & {world[rec][1] for rec in RECORDS}
    check(st == 200 and mine == {world["B"][1], world["D"][1]}, "department filter: %r" % mine)
    check_writes(port, who)
    check_people_routes(port, who)
    check_idempotent_secret(port, who)
    check(srv.stop() == 0, "SIGTERM exits 0")
    session_expiry(root_password)
    metrics_from_afar()
    print("test_access: all %d checks passed" % CHECKS[0])


if __name__ == "__main__":
    try:
        main()
    finally:
        for s in SERVERS:
            if s.p.poll() is None:
                s.p.kill()
                s.p.wait()
        if not FAILED:
            shutil.rmtree(TMP, ignore_errors=True)
        else:
            print("server log and database kept in", TMP, file=sys.stderr)
