#!/usr/bin/env python3
"""End-to-end test of business calendars over HTTP: a real `flowd serve` on a temporary
database. Bad calendars (a bad interval, no working time, a holiday outside the range,
broken JSON) answer 400 naming the field and leave the stored calendar as it was; readers
may read but not write; a good calendar gives a stage on it the right deadline -- Friday
17:30 in Berlin plus PT2H with the Monday a holiday is Tuesday 10:30 (started through the
CLI with FLOWD_NOW next to the running server), and an instance started over HTTP on a
seven-day calendar skips its holidays. Deleting a calendar its stage needs gives an
incident, not a wrong deadline. Python standard library only."""
import datetime
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

FLOWD = os.environ.get("FLOWD_BINARY", "build/flowd")
TMP = tempfile.mkdtemp(prefix="flowd-cal-")
DB = os.path.join(TMP, "flowd.db")
FAILED = []
SERVERS = []

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:flowd="https://flowd.dev/schema/bpmn/1.0" id="d_%(key)s" targetNamespace="t">
  <bpmn:process id="%(key)s" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:userTask id="work" name="Work">
      <bpmn:extensionElements>
        <flowd:stage duration="%(duration)s" remindBefore="%(remind)s" calendar="%(calendar)s"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def check(cond, what):
    if not cond:
        FAILED.append(what)
        print("FAIL:", what, file=sys.stderr)
        raise SystemExit(1)


def env_of(**extra):
    env = dict(os.environ, FLOWD_ARGON2_MEMORY_KIB="64", FLOWD_ARGON2_ITERATIONS="1", **extra)
    env.pop("FLOWD_DB", None)
    return env


class Server:
    def __init__(self):
        SERVERS.append(self)
        self.log = open(os.path.join(TMP, "server.log"), "a")
        self.p = subprocess.Popen([FLOWD, "serve", "--db", DB, "--port", "0"],
                                  stdout=subprocess.PIPE, stderr=self.log, env=env_of(),
                                  text=True)
        line = self.p.stdout.readline()
        m = re.match(r"listening on http://127\.0\.0\.1:(\d+)$", line.strip())
        check(m is not None, "server printed its address: %r" % line)
        self.port = int(m.group(1))


def request(port, method, path, body=None, token=None, raw=None):
    h = {}
    if token:
        h["Authorization"] = "Bearer " + token
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    payload = r.read()
    ctype = r.getheader("Content-Type") or ""
    conn.close()
    doc = json.loads(payload) if "json" in ctype and payload else None
    return r.status, doc


def cli(*args, stdin=None, now=None, ok=True):
    extra = {"FLOWD_NOW": now} if now else {}
    r = subprocess.run([FLOWD] + list(args) + ["--db", DB], input=stdin, capture_output=True,
                       text=True, env=env_of(**extra))
    if ok:
        check(r.returncode == 0, "flowd %s: %s" % (" ".join(args), r.stderr))
    return r


def problem(status, doc, code, field=None):
    check(status == code and doc is not None and doc.get("status") == code,
          "status %d, wanted %d: %r" % (status, code, doc))
    if field is not None:
        check(doc.get("field") == field, "problem names field %s: %r" % (field, doc))


def ms(iso):
    return int(datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def main():
    srv = Server()
    port = srv.port
    cli("user", "add", "admin", "--admin", "--password-stdin", stdin="admin-pw-1\n")
    cli("user", "add", "ann", "--password-stdin", stdin="ann-pw-1\n")
    admin = json.loads(cli("token", "create", "--user", "admin", "--scope", "admin",
                           "--json").stdout)["token"]
    ann = json.loads(cli("token", "create", "--user", "ann", "--scope", "write",
                         "--json").stdout)["token"]

    # -- the built-in default, readable by everyone signed in
    st, doc = request(port, "GET", "/api/v1/calendars", token=ann)
    check(st == 200 and [c["name"] for c in doc["items"]] == ["default"] and
          doc["items"][0]["builtin"] and doc["items"][0]["week"]["mon"] ==
          [{"start": "09:00", "end": "18:00"}] and doc["items"][0]["week"]["sat"] == [],
          "default calendar listed: %r" % doc)
    st, doc = request(port, "GET", "/api/v1/calendars/default", token=ann)
    check(st == 200 and doc["zone"] == "UTC", "default calendar: %r" % doc)
    st, doc = request(port, "GET", "/api/v1/calendars/nope", token=ann)
    problem(st, doc, 404)
    st, doc = request(port, "GET", "/api/v1/calendars", token=None)
    problem(st, doc, 401)

    # -- a good calendar; only administrators write
    office = {"zone": "Europe/Berlin",
              "week": {d: ["09:00-13:00", {"start": "14:00", "end": "18:00"}]
                       for d in ("mon", "tue", "wed", "thu", "fri")},
              "holidays": [{"date": "2026-01-01", "name": "Neujahr"}, "2026-01-12"],
              "years": {"from": 2026, "to": 2026}}
    st, doc = request(port, "PUT", "/api/v1/calendars/office", office, token=ann)
    problem(st, doc, 403)
    st, doc = request(port, "PUT", "/api/v1/calendars/office", office, token=admin)
    check(st == 200 and doc["name"] == "office" and not doc["builtin"] and
          doc["holidays"][1] == {"date": "2026-01-12"} and doc["updated_at"],
          "calendar stored: %r" % doc)
    st, stored = request(port, "GET", "/api/v1/calendars/office", token=ann)
    check(st == 200 and stored == doc, "stored calendar read back: %r" % stored)

    # -- bad calendars: 400 naming the field, the stored one unchanged
    bad = json.loads(json.dumps(office))
    bad["week"]["mon"][1] = {"start": "14:00", "end": "13:30"}
    st, doc = request(port, "PUT", "/api/v1/calendars/office", bad, token=admin)
    problem(st, doc, 400, "week.mon[1].end")
    bad = dict(office, week={})
    st, doc = request(port, "PUT", "/api/v1/calendars/office", bad, token=admin)
    problem(st, doc, 400, "week")
    check("no working time" in doc["detail"], "no working time said: %r" % doc)
    bad = dict(office, holidays=[{"date": "2027-01-01"}])
    st, doc = request(port, "PUT", "/api/v1/calendars/office", bad, token=admin)
    problem(st, doc, 400, "holidays[0].date")
    check("outside the calendar range" in doc["detail"], "range said: %r" % doc)
    bad = dict(office, zone="Mars/Olympus")
    st, doc = request(port, "PUT", "/api/v1/calendars/office", bad, token=admin)
    problem(st, doc, 400, "zone")
    st, doc = request(port, "PUT", "/api/v1/calendars/office", raw=b'{"zone": ', token=admin)
    problem(st, doc, 400)
    st, doc = request(port, "PUT", "/api/v1/calendars/office", raw=b"", token=admin)
    problem(st, doc, 400)
    st, doc = request(port, "PUT", "/api/v1/calendars/bad%20name", {}, token=admin)
    problem(st, doc, 400, "name")
    st, doc = request(port, "GET", "/api/v1/calendars/office", token=ann)
    check(st == 200 and doc == stored, "nothing changed by bad input: %r" % doc)
    st, doc = request(port, "GET", "/api/v1/calendars", token=ann)
    check([c["name"] for c in doc["items"]] == ["default", "office"], "list: %r" % doc)

    # -- deadlines on the calendar: Friday 2026-01-09 17:30 Berlin (16:30Z) + PT2H, with
    # Monday the 12th a holiday: Tuesday 10:30 Berlin (09:30Z); reminder PT1H before
    xml = PROCESS % {"key": "office_work", "duration": "PT2H", "remind": "PT1H",
                     "calendar": "office"}
    st, doc = request(port, "POST", "/api/v1/deployments", raw=xml.encode(), token=admin)
    check(st == 201, "deploy: %r" % doc)
    out = json.loads(cli("start", "office_work", "--json", now="2026-01-09T16:30:00Z").stdout)
    task = out["open_tasks"][0]
    st, doc = request(port, "GET", "/api/v1/tasks/%d" % task["id"], token=admin)
    check(st == 200 and doc["due_at"] == "2026-01-13T09:30:00.000Z" and
          doc["remind_at"] == "2026-01-13T08:30:00.000Z", "Friday 17:30 + PT2H: %r" % doc)

    # -- an instance started over HTTP (the server's clock) on a seven-day calendar whose
    # next two days are holidays: P1D lands three days later at the same time
    today = datetime.datetime.now(datetime.timezone.utc).date()
    hol = [str(today + datetime.timedelta(days=k)) for k in (1, 2)]
    always = {"week": {d: ["00:00-24:00"] for d in
                       ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}, "holidays": hol}
    st, doc = request(port, "PUT", "/api/v1/calendars/always", always, token=admin)
    check(st == 200, "seven-day calendar: %r" % doc)
    xml = PROCESS % {"key": "always_work", "duration": "P1D", "remind": "PT1H",
                     "calendar": "always"}
    st, doc = request(port, "POST", "/api/v1/deployments", raw=xml.encode(), token=admin)
    check(st == 201, "deploy: %r" % doc)
    st, doc = request(port, "POST", "/api/v1/instances", {"process_key": "always_work"}, ann)
    check(st == 201, "start over HTTP: %r" % doc)
    st, doc = request(port, "GET", "/api/v1/instances/%d" % doc["id"], token=ann)
    task = doc["open_tasks"][0]
    created = datetime.datetime.fromisoformat(task["created_at"].replace("Z", "+00:00"))
    # the same time on the first working day after the start day (holidays skipped); a
    # start on a holiday (past midnight since `today`) counts from the next working day
    day, tod = created.date(), created - datetime.datetime.combine(
        created.date(), datetime.time(), datetime.timezone.utc)
    if str(day) in hol:
        while str(day) in hol:
            day += datetime.timedelta(days=1)
        tod = datetime.timedelta(0)
    day += datetime.timedelta(days=1)
    while str(day) in hol:
        day += datetime.timedelta(days=1)
    want = datetime.datetime.combine(day, datetime.time(), datetime.timezone.utc) + tod
    check(ms(task["due_at"]) == int(want.timestamp() * 1000),
          "P1D over holidays: %r, wanted %s" % (task, want))

    # -- the CLI sees what the API stored, and the other way round
    r = cli("calendar", "show", "office", "--json")
    check(json.loads(r.stdout)["zone"] == "Europe/Berlin", "CLI show: %r" % r.stdout)
    r = cli("calendar", "set", "office", "-", stdin='{"week":{"mon":["18:00-09:00"]}}', ok=False)
    check(r.returncode == 1 and "week.mon[0]" in r.stderr, "CLI names the field: %r" % r.stderr)

    # -- deleting: readers may not; then the stage's calendar is unknown -> incident
    st, doc = request(port, "DELETE", "/api/v1/calendars/office", token=ann)
    problem(st, doc, 403)
    st, doc = request(port, "DELETE", "/api/v1/calendars/office", token=admin)
    check(st == 204, "delete: %r" % doc)
    st, doc = request(port, "DELETE", "/api/v1/calendars/office", token=admin)
    problem(st, doc, 404)
    st, doc = request(port, "POST", "/api/v1/instances", {"process_key": "office_work"}, ann)
    check(st == 201 and doc["incident"], "unknown calendar gives an incident: %r" % doc)
    st, doc = request(port, "DELETE", "/api/v1/calendars/default", token=admin)
    problem(st, doc, 404)


if __name__ == "__main__":
    try:
        main()
    finally:
        for s in SERVERS:
            if s.p.poll() is None:
                s.p.terminate()
                s.p.wait()
            s.log.close()
        if not FAILED:
            shutil.rmtree(TMP, ignore_errors=True)
        else:
            print("server log and database kept in", TMP, file=sys.stderr)
