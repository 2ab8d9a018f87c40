#!/usr/bin/env python3
"""End-to-end test of `flowd serve`: starts the real server on a free port with a temporary
database and drives every route over HTTP -- the demo sales process from start to end,
two concurrent completions of one task (exactly one wins), malformed JSON, wrong types,
huge bodies, unknown fields, bad tokens, anonymous access to every route of the table,
Idempotency-Key replay, and kill -9 during a stream of completions (no acknowledged
completion lost after restart). Python standard library only."""
import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading

FLOWD = os.environ.get("FLOWD_BINARY", "build/flowd")
SRC = os.environ.get("FLOWD_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SALES = os.path.join(SRC, "examples", "sales.bpmn")
TMP = tempfile.mkdtemp(prefix="flowd-api-")
DB = os.path.join(TMP, "flowd.db")
TOKENS = {}
FAILED = []


def check(cond, what):
    if not cond:
        FAILED.append(what)
        print("FAIL:", what, file=sys.stderr)
        raise SystemExit(1)


SERVERS = []


class Server:
    def __init__(self):
        SERVERS.append(self)
        env = dict(os.environ)
        env["FLOWD_ARGON2_MEMORY_KIB"] = "64"
        env["FLOWD_ARGON2_ITERATIONS"] = "1"
        env.pop("FLOWD_DB", None)
        self.log = open(os.path.join(TMP, "server.log"), "a")
        self.p = subprocess.Popen([FLOWD, "serve", "--db", DB, "--port", "0", "--threads", "4"],
                                  stdout=subprocess.PIPE, stderr=self.log, env=env, text=True)
        line = self.p.stdout.readline()
        m = re.match(r"listening on http://127\.0\.0\.1:(\d+)$", line.strip())
        check(m is not None, "server printed its address: %r" % line)
        self.port = int(m.group(1))

    def stop(self, sig=signal.SIGTERM):
        self.p.send_signal(sig)
        rc = self.p.wait(timeout=30)
        self.log.close()
        return rc


def request(port, method, path, body=None, token=None, headers=None, raw=None, conn=None):
    h = {}
    if token:
        h["Authorization"] = "Bearer " + token
    if headers:
        h.update(headers)
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    payload = r.read()
    ctype = r.getheader("Content-Type") or ""
    if own:
        conn.close()
    doc = None
    if "json" in ctype and payload:
        doc = json.loads(payload)
    return r.status, doc, payload, r


def cli(*args, stdin=None):
    env = dict(os.environ, FLOWD_ARGON2_MEMORY_KIB="64", FLOWD_ARGON2_ITERATIONS="1")
    env.pop("FLOWD_DB", None)
    r = subprocess.run([FLOWD] + list(args) + ["--db", DB], input=stdin, capture_output=True,
                       text=True, env=env)
    check(r.returncode == 0, "flowd %s: %s" % (" ".join(args), r.stderr))
    return r.stdout


def add_people():
    """Roles, users and tokens through the people CLI (the server is running: WAL)."""
    for name in ("sales_manager", "head_of_sales", "accountant", "event_manager"):
        cli("role", "add", name)
    cli("user", "add", "admin", "--admin", "--password-stdin", stdin="admin-pw-1\n")
    cli("user", "add", "anna", "--role", "sales_manager", "--role", "head_of_sales",
        "--role", "accountant", "--role", "event_manager", "--password-stdin",
        stdin="anna-pw-1\n")
    cli("user", "add", "bob", "--password-stdin", stdin="bob-pw-1\n")
    for login, scope in (("admin", "admin"), ("anna", "write"), ("bob", "write")):
        TOKENS[login] = json.loads(cli("token", "create", "--user", login, "--scope", scope,
                                       "--json"))["token"]
    TOKENS["anna_read"] = json.loads(cli("token", "create", "--user", "anna", "--scope", "read",
                                         "--json"))["token"]


def route_table():
    out = subprocess.run([FLOWD, "routes"], check=True, capture_output=True, text=True).stdout
    routes = []
    for line in out.splitlines():
        parts = line.split()
        routes.append((parts[0], parts[1], len(parts) > 2 and parts[2] == "public"))
    return routes


def problem(status, doc, code, field=None):
    check(doc is not None and doc.get("status") == code, "problem %d: %r" % (code, doc))
    check(status == code, "status %d, wanted %d: %r" % (status, code, doc))
    check(doc["type"].startswith("https://flowd.dev/problems/"), "problem type %r" % doc)
    if field:
        check(doc.get("field") == field, "problem names field %s: %r" % (field, doc))


def open_task(port, iid, token):
    st, doc, _, _ = request(port, "GET", "/api/v1/instances/%d" % iid, token=token)
    check(st == 200, "get instance %d: %r" % (iid, doc))
    return doc, doc["open_tasks"]


def step(port, iid, node, variables, token):
    inst, tasks = open_task(port, iid, token)
    check(len(tasks) == 1 and tasks[0]["node_id"] == node,
          "instance %d at %s: %r" % (iid, node, [t["node_id"] for t in tasks]))
    t = tasks[0]
    ma = t["main_action"]
    if ma["required"] and not ma["done"] and ma["kind"] == "field":
        # a "field" action is met by filling its variable: refused without it (the refusal
        # names the stage, its id and the action), accepted with it and recorded on the way
        st, doc, _, _ = request(port, "POST", "/api/v1/tasks/%d/complete" % t["id"], {}, token)
        problem(st, doc, 422)
        check("stage '%s' (%s)" % (t["name"], node) in doc["detail"] and
              "main action 'field'" in doc["detail"], "field refusal: %r" % doc)
    elif ma["required"] and not ma["done"]:
        st, doc, _, _ = request(port, "POST", "/api/v1/tasks/%d/complete" % t["id"],
                                {"variables": variables}, token)
        problem(st, doc, 422)
        check("stage '%s' (%s)" % (t["name"], node) in doc["detail"] and
              "main action '%s'" % ma["kind"] in doc["detail"], "refusal: %r" % doc)
        st, doc, _, _ = request(port, "POST", "/api/v1/tasks/%d/action" % t["id"],
                                {"kind": ma["kind"], "ref": node + ".pdf"}, token)
        check(st == 200 and doc["main_action"]["done"], "action recorded: %r" % doc)
    st, doc, _, _ = request(port, "POST", "/api/v1/tasks/%d/complete" % t["id"],
                            {"variables": variables}, token)
    check(st == 200 and doc["status"] == "completed", "complete %s: %r" % (node, doc))
    # the answer names the task the completion opened (the next stage), or null at the end
    _, after = open_task(port, iid, token)
    check(doc["opened_task_id"] == (min(x["id"] for x in after) if after else None),
          "opened_task_id %r, open now %r" % (doc["opened_task_id"], [x["id"] for x in after]))


def main():
    srv = Server()
    port = srv.port
    add_people()
    admin = TOKENS["admin"]

    # -- public routes, metrics
    st, doc, _, _ = request(port, "GET", "/healthz")
    check(st == 200 and doc == {"status": "ok"}, "healthz: %r" % doc)

    # -- every non-public route refuses anonymous and bad-token requests with 401
    for method, pattern, public in route_table():
        path = pattern.replace("{id}", "1").replace("{key}", "sales")
        if public:
            continue
        for tok in (None, "fl_bogus", "nonsense"):
            st, doc, _, _ = request(port, method, path, token=tok,
                                    raw=b"{}" if method == "POST" else None)
            problem(st, doc, 401)
    st, doc, _, _ = request(port, "GET", "/api/v1/processes",
                            headers={"Authorization": "Basic YWRtaW46eA=="})
    problem(st, doc, 401)
    # ... and exactly these answer without credentials (/metrics only from loopback:
    # tests/e2e/test_access.py asks it from another address)
    public = {(m, p) for m, p, pub in route_table() if pub}
    check(public == {("GET", "/healthz"), ("POST", "/api/v1/login"), ("GET", "/metrics")},
          "public routes: %r" % public)
    st, doc, _, _ = request(port, "POST", "/api/v1/login", {})
    problem(st, doc, 400, "login")

    # -- deployments and processes
    xml = open(SALES, "rb").read()
    st, doc, _, _ = request(port, "POST", "/api/v1/deployments", raw=xml, token=admin,
                            headers={"Content-Type": "application/xml"})
    check(st == 201 and doc["processes"][0]["key"] == "sales" and
          doc["processes"][0]["version"] == 1 and doc["processes"][0]["created"],
          "deploy: %r" % doc)
    check(isinstance(doc["processes"][0]["warnings"], list), "warnings listed")
    st, doc, _, _ = request(port, "POST", "/api/v1/deployments", raw=xml, token=admin)
    check(st == 200 and not doc["processes"][0]["created"], "redeploy same xml: %r" % doc)
    st, doc, _, _ = request(port, "POST", "/api/v1/deployments", raw=b"<bpmn:definitions",
                            token=admin)
    check(st in (400, 422) and doc["type"].startswith("https://flowd.dev/problems/"),
          "bad xml: %r" % doc)
    st, doc, _, _ = request(port, "POST", "/api/v1/deployments", raw=xml, token=TOKENS["bob"])
    problem(st, doc, 403)
    st, doc, _, _ = request(port, "GET", "/api/v1/processes", token=admin)
    check(st == 200 and [p["key"] for p in doc["items"]] == ["sales"], "processes: %r" % doc)
    st, doc, _, _ = request(port, "GET", "/api/v1/processes/sales", token=admin)
    check(st == 200 and doc["version"] == 1 and doc["versions"] == 1, "process: %r" % doc)
    st, doc, _, _ = request(port, "GET", "/api/v1/processes/sales/versions", token=admin)
    check(st == 200 and len(doc["items"]) == 1, "versions: %r" % doc)
    st, _, body, r = request(port, "GET", "/api/v1/processes/sales/xml", token=admin)
    check(st == 200 and body == xml and "xml" in r.getheader("Content-Type"), "xml round trip")
    st, doc, _, _ = request(port, "GET", "/api/v1/processes/nope", token=admin)
    problem(st, doc, 404)

    # -- bad requests name what is wrong
    st, doc, _, _ = request(port, "POST", "/api/v1/instances", raw=b'{"process_key": ',
                            token=admin)
    problem(st, doc, 400)
    check(doc.get("line") == 1, "syntax error has a position: %r" % doc)
    st, doc, _, _ = request(port, "POST", "/api/v1/instances", {"process_key": 7}, admin)
    problem(st, doc, 400, "process_key")
    st, doc, _, _ = request(port, "POST", "/api/v1/instances",
                            {"process_key": "sales", "colour": "red"}, admin)
    problem(st, doc, 400, "colour")
    st, doc, _, _ = request(port, "POST", "/api/v1/instances",
                            {"process_key": "sales", "variables": [1]}, admin)
    problem(st, doc, 400, "variables")
    st, doc, _, _ = request(port, "POST", "/api/v1/instances", raw=b"[1,2]", token=admin)
    problem(st, doc, 400)
    st, doc, _, _ = request(port, "POST", "/api/v1/instances", {"process_key": "nope"}, admin)
    problem(st, doc, 404)
    st, doc, _, _ = request(port, "POST", "/api/v1/instances",
                            raw=b'{"variables":{"x":"' + b"a" * (2 << 20) + b'"}}', token=admin)
    problem(st, doc, 413)
    st, doc, _, _ = request(port, "GET", "/api/v1/instances?limit=0", token=admin)
    problem(st, doc, 400, "limit")
    st, doc, _, _ = request(port, "DELETE", "/api/v1/instances", token=admin)
    check(st == 405, "wrong method: %d" % st)
    st, doc, _, _ = request(port, "GET", "/api/v1/nothing", token=admin)
    problem(st, doc, 404)

    # -- the sales process, short route, with exact decimals
    st, doc, _, r = request(port, "POST", "/api/v1/instances",
                            raw=b'{"process_key":"sales","business_key":"DEAL-1",'
                                b'"variables":{"amount":12345678901234567890.123456789,'
                                b'"client":"ACME"}}', token=admin)
    check(st == 201 and doc["status"] == "active" and doc["business_key"] == "DEAL-1",
          "start: %r" % doc)
    check(b"12345678901234567890.123456789" in _body_of(port, doc["id"], admin),
          "variables stay exact")
    check(r.getheader("Location") == "/api/v1/instances/%d" % doc["id"], "Location header")
    check(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", doc["started_at"]), "ISO time")
    iid = doc["id"]
    check(doc["current_stages"] and doc["current_stages"][0]["node_id"] == "presentation",
          "current stage: %r" % doc["current_stages"])
    anna = TOKENS["anna"]
    step(port, iid, "presentation", {"presentationAccepted": True}, anna)
    step(port, iid, "prepare_offer", {}, anna)
    step(port, iid, "approve_offer", {"offerNeedsClarification": False, "signerCount": 1}, anna)
    step(port, iid, "sign_agreement", {}, anna)
    step(port, iid, "send_invoice", {"paymentInTwoParts": False}, anna)
    step(port, iid, "receive_payment", {"paidAmount": 99.90}, anna)
    step(port, iid, "run_event", {}, anna)
    step(port, iid, "collect_feedback", {"clientSatisfied": True}, anna)
    step(port, iid, "close_deal", {"nextContactDate": "2027-01-15"}, anna)
    inst, tasks = open_task(port, iid, admin)
    check(inst["status"] == "completed" and not tasks, "instance completed: %r" % inst)
    st, doc, _, _ = request(port, "GET", "/api/v1/instances/%d/history" % iid, token=admin)
    types = [e["type"] for e in doc["items"]]
    check(st == 200 and types[0] == "instance_started" and types[-1] == "instance_completed",
          "history: %r" % types)

    # -- record-level access: bob sees nothing of anna's case
    st, doc, _, _ = request(port, "GET", "/api/v1/instances/%d" % iid, token=TOKENS["bob"])
    problem(st, doc, 404)

    # -- a read-scope token reads but may not write
    st, doc, _, _ = request(port, "GET", "/api/v1/processes", token=TOKENS["anna_read"])
    check(st == 200, "read token reads: %r" % doc)
    st, doc, _, _ = request(port, "POST", "/api/v1/instances", {"process_key": "sales"},
                            TOKENS["anna_read"])
    problem(st, doc, 403)

    # -- login: cookie session; writes need the CSRF token
    st, doc, _, r = request(port, "POST", "/api/v1/login", {"login": "anna",
                                                             "password": "wrong"})
    problem(st, doc, 401)
    st, doc, _, r = request(port, "POST", "/api/v1/login", {"login": "anna",
                                                             "password": "anna-pw-1"})
    check(st == 200 and doc["csrf_token"], "login: %r" % doc)
    csrf = doc["csrf_token"]
    cookie = r.getheader("Set-Cookie")
    check(cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie, "cookie %r" % cookie)
    sess = {"Cookie": cookie.split(";")[0]}
    st, doc, _, _ = request(port, "GET", "/api/v1/processes", headers=sess)
    check(st == 200, "session reads: %r" % doc)
    st, doc, _, _ = request(port, "POST", "/api/v1/instances", {"process_key": "sales"},
                            headers=sess)
    problem(st, doc, 403)
    st, doc, _, _ = request(port, "POST", "/api/v1/instances", {"process_key": "sales"},
                            headers=dict(sess, **{"X-CSRF-Token": "not-it"}))
    problem(st, doc, 403)
    st, doc, _, _ = request(port, "POST", "/api/v1/instances", {"process_key": "sales",
                                                                "business_key": "COOKIE"},
                            headers=dict(sess, **{"X-CSRF-Token": csrf}))
    check(st == 201 and doc["started_by"] == "anna", "cookie write with CSRF: %r" % doc)
    st, doc, _, _ = request(port, "GET", "/api/v1/processes",
                            headers={"Cookie": "flowd_session=forged"})
    problem(st, doc, 401)

    # -- lists and pagination
    ids = []
    for i in range(5):
        st, doc, _, _ = request(port, "POST", "/api/v1/instances",
                                {"process_key": "sales", "business_key": "P%d" % i}, admin)
        check(st == 201, "start %d" % i)
        ids.append(doc["id"])
    seen, after = [], 0
    while True:
        st, doc, _, _ = request(port, "GET", "/api/v1/instances?active=true&limit=2&after=%d"
                                % after, token=admin)
        check(st == 200, "list page")
        seen += [i["id"] for i in doc["items"]]
        if doc["next_after"] is None:
            break
        after = doc["next_after"]
    check([i for i in seen if i in ids] == ids and len(seen) == len(set(seen)) and
          seen == sorted(seen), "cursor pagination: %r vs %r" % (seen, ids))
    st, doc, _, _ = request(port, "GET", "/api/v1/tasks?instance=%d" % ids[0], token=admin)
    check(st == 200 and len(doc["items"]) == 1, "tasks of instance: %r" % doc)
    tid = doc["items"][0]["id"]
    st, doc, _, _ = request(port, "GET", "/api/v1/tasks?due_before=2000-01-01", token=admin)
    check(st == 200 and doc["items"] == [], "due_before filter: %r" % doc)
    st, doc, _, _ = request(port, "GET", "/api/v1/tasks?due_before=yesterday", token=admin)
    problem(st, doc, 400, "due_before")
    st, doc, _, _ = request(port, "GET", "/api/v1/tasks?role=sales_manager&limit=3",
                            token=admin)
    check(st == 200 and len(doc["items"]) == 3 and doc["next_after"], "role filter: %r" % doc)

    # -- claim, unclaim, assign
    st, doc, _, _ = request(port, "POST", "/api/v1/tasks/%d/claim" % tid, {}, anna)
    check(st == 200 and doc["assignee"] == "anna", "claim: %r" % doc)
    st, doc, _, _ = request(port, "GET", "/api/v1/tasks?mine=true", token=anna)
    check(st == 200 and [t["id"] for t in doc["items"]] == [tid], "mine: %r" % doc)
    st, doc, _, _ = request(port, "POST", "/api/v1/tasks/%d/unclaim" % tid, {}, anna)
    check(st == 200 and doc["assignee"] is None, "unclaim: %r" % doc)
    st, doc, _, _ = request(port, "POST", "/api/v1/tasks/%d/assign" % tid,
                            {"assignee": "anna"}, admin)
    check(st == 200 and doc["assignee"] == "anna", "assign: %r" % doc)
    st, doc, _, _ = request(port, "POST", "/api/v1/tasks/%d/claim" % tid, {}, admin)
    problem(st, doc, 409)
    st, doc, _, _ = request(port, "POST", "/api/v1/tasks/%d/assign" % tid,
                            {"assignee": "nobody"}, admin)
    problem(st, doc, 404, "assignee")

    # -- cancel
    st, doc, _, _ = request(port, "POST", "/api/v1/instances/%d/cancel" % ids[4],
                            {"reason": "test"}, admin)
    check(st == 200 and doc["status"] == "cancelled", "cancel: %r" % doc)
    st, doc, _, _ = request(port, "POST", "/api/v1/instances/%d/cancel" % ids[4], {}, admin)
    problem(st, doc, 409)

    # -- Idempotency-Key: the retry answers the first answer, a changed body 422
    key = {"Idempotency-Key": "start-once-1"}
    idem_body = {"process_key": "sales", "business_key": "IDEM"}
    st1, doc1, raw1, _ = request(port, "POST", "/api/v1/instances", idem_body, admin, key)
    st2, doc2, raw2, _ = request(port, "POST", "/api/v1/instances", idem_body, admin, key)
    check(st1 == 201 and st2 == 201 and raw1 == raw2, "idempotent replay")
    st, doc, _, _ = request(port, "GET", "/api/v1/instances?limit=1000", token=admin)
    check(sum(i["business_key"] == "IDEM" for i in doc["items"]) == 1, "started once")
    st, doc, _, _ = request(port, "POST", "/api/v1/instances",
                            {"process_key": "sales", "business_key": "OTHER"}, admin, key)
    problem(st, doc, 422, "Idempotency-Key")

    # -- two clients complete one task at once: one 200, one 409
    st, doc, _, _ = request(port, "GET", "/api/v1/tasks?instance=%d" % ids[1], token=admin)
    race = doc["items"][0]["id"]
    kind = doc["items"][0]["main_action"]["kind"]
    if kind:
        st, doc, _, _ = request(port, "POST", "/api/v1/tasks/%d/action" % race,
                                {"kind": kind}, admin)
        check(st == 200, "action before the race: %r" % doc)
    results = []

    def complete():
        s, d, _, _ = request(port, "POST", "/api/v1/tasks/%d/complete" % race,
                             {"variables": {"presentationAccepted": False}}, admin)
        results.append(s)

    threads = [threading.Thread(target=complete) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(sorted(results) == [200, 409], "concurrent completion: %r" % results)

    # -- metrics (loopback: no token needed)
    st, _, body, _ = request(port, "GET", "/metrics")
    text = body.decode()
    check(st == 200 and "flowd_http_requests_total{" in text and
          "flowd_command_seconds_bucket" in text and "flowd_commit_batch_size_bucket" in text
          and re.search(r"^flowd_open_tasks \d+$", text, re.M) and
          re.search(r"^flowd_active_instances \d+$", text, re.M), "metrics")

    # -- people routes (administrators only)
    st, doc, _, _ = request(port, "POST", "/api/v1/roles", {"name": "auditor"}, admin)
    check(st == 201 and doc["name"] == "auditor", "role add: %r" % doc)
    st, doc, _, _ = request(port, "POST", "/api/v1/roles", {"name": "auditor"}, admin)
    problem(st, doc, 409)
    st, doc, _, _ = request(port, "GET", "/api/v1/roles", token=admin)
    check("auditor" in [x["name"] for x in doc["items"]], "roles: %r" % doc)
    st, doc, _, _ = request(port, "POST", "/api/v1/departments", {"name": "Sales",
                                                                  "head": "anna"}, admin)
    check(st == 201, "department add: %r" % doc)
    st, doc, _, _ = request(port, "GET", "/api/v1/departments", token=admin)
    check(doc["items"][0]["head"] == "anna", "departments: %r" % doc)
    st, doc, _, _ = request(port, "POST", "/api/v1/users",
                            {"login": "carl", "password": "carl-pw-1", "roles": ["auditor"],
                             "department": "Sales"}, admin)
    check(st == 201 and doc["roles"] == ["auditor"], "user add: %r" % doc)
    st, doc, _, _ = request(port, "POST", "/api/v1/users", {"login": "dora", "admin": "yes"},
                            admin)
    problem(st, doc, 400, "admin")
    st, doc, _, _ = request(port, "GET", "/api/v1/users", token=admin)
    check("carl" in [u["login"] for u in doc["items"]], "users: %r" % doc)
    st, doc, _, _ = request(port, "GET", "/api/v1/users", token=anna)
    problem(st, doc, 403)
    st, doc, _, _ = request(port, "POST", "/api/v1/tokens", {"user": "carl", "scope": "read"},
                            admin)
    check(st == 201 and doc["token"].startswith("fl_"), "token create: %r" % doc)
    carl, carl_id = doc["token"], doc["id"]
    st, doc, _, _ = request(port, "GET", "/api/v1/tasks", token=carl)
    check(st == 200, "carl's token works: %r" % doc)
    st, doc, _, _ = request(port, "GET", "/api/v1/tokens?user=carl", token=admin)
    check([t["id"] for t in doc["items"]] == [carl_id] and "token" not in doc["items"][0],
          "tokens listed without secrets: %r" % doc)
    st, _, _, _ = request(port, "POST", "/api/v1/tokens/%d/revoke" % carl_id, {}, admin)
    check(st == 204, "revoke: %d" % st)
    st, doc, _, _ = request(port, "GET", "/api/v1/tasks", token=carl)
    problem(st, doc, 401)

    # -- kill -9 during a stream of completions: every acknowledged one survives
    started = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(40):
        st, doc, _, _ = request(port, "POST", "/api/v1/instances",
                                {"process_key": "sales", "business_key": "K%d" % i}, admin,
                                conn=conn)
        check(st == 201, "start for crash test")
        t = doc["open_tasks"][0]
        if t["main_action"]["kind"]:
            st, _, _, _ = request(port, "POST", "/api/v1/tasks/%d/action" % t["id"],
                                  {"kind": t["main_action"]["kind"]}, admin, conn=conn)
            check(st == 200, "action for crash test")
        started.append(t["id"])
    acked = []
    stop = threading.Event()

    def stream(part):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for tid_ in part:
            if stop.is_set():
                return
            try:
                s, _, _, _ = request(port, "POST", "/api/v1/tasks/%d/complete" % tid_,
                                     {"variables": {"presentationAccepted": False}}, admin,
                                     conn=c)
            except (OSError, http.client.HTTPException):
                return
            if s == 200:
                acked.append(tid_)
            if len(acked) == 15:
                srv.p.send_signal(signal.SIGKILL)
                stop.set()

    workers = [threading.Thread(target=stream, args=(started[k::2],)) for k in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    srv.p.wait(timeout=30)
    srv.log.close()
    check(len(acked) >= 15, "completions acknowledged before the kill: %d" % len(acked))
    srv = Server()
    port = srv.port
    for tid_ in acked:
        st, doc, _, _ = request(port, "GET", "/api/v1/tasks/%d" % tid_, token=admin)
        check(st == 200 and doc["status"] == "completed", "acked completion survived: %r" % doc)

    # -- the first answer to an Idempotency-Key survives the restart
    st3, _, raw3, _ = request(port, "POST", "/api/v1/instances", idem_body, admin, key)
    check(st3 == 201 and raw3 == raw1, "idempotent replay after restart")

    # -- SIGTERM: clean exit 0
    check(srv.stop() == 0, "SIGTERM exits 0")
    print("test_api: all checks passed")


def _body_of(port, iid, token):
    return request(port, "GET", "/api/v1/instances/%d" % iid, token=token)[2]


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
