#!/usr/bin/env python3
"""End-to-end test of task deadlines over HTTP on `flowd serve --test-clock`: a task is
created; advancing the clock sends the reminder to the assignee's inbox; at the deadline
the history records `escalated` level 0 and the accountable role and the department head
are told; level 1 tells the director; completing another task cancels what it had
pending; notifications are listed (unread filter, cursor) and marked read by their owner
only; the clock endpoint is refused without --test-clock. No real sleeps."""
import http.client
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timers_common import (Failed, Server, add_people, check, cli, deploy,  # noqa: E402
                           request)

TMP = tempfile.mkdtemp(prefix="flowd-timers-")
DB = os.path.join(TMP, "flowd.db")


def inbox(port, token, unread=False, after=None, limit=None):
    q = []
    if unread:
        q.append("unread=true")
    if after:
        q.append("after=%d" % after)
    if limit:
        q.append("limit=%d" % limit)
    st, doc = request(port, "GET", "/api/v1/notifications" + ("?" + "&".join(q) if q else ""),
                      token=token)
    check(st == 200, "notifications: %r" % doc)
    return doc


def kinds(port, token):
    return sorted(n["kind"] for n in inbox(port, token)["items"])


def history(port, iid, admin):
    st, doc = request(port, "GET", "/api/v1/instances/%d/history" % iid, token=admin)
    check(st == 200, "history: %r" % doc)
    return doc["items"]


def escalations(port, iid, admin):
    return [e["detail"]["level"] for e in history(port, iid, admin) if e["type"] == "escalated"]


def advance(port, admin, duration):
    st, doc = request(port, "POST", "/api/v1/admin/clock", {"advance": duration}, admin)
    check(st == 200 and doc["settled"] and doc["test_clock"], "advance %s: %r" % (duration, doc))
    return doc["now"]


SERVERS = []


def main():
    srv = Server(DB, os.path.join(TMP, "server.log"))
    SERVERS.append(srv)
    tokens = add_people(DB)
    admin, alice = tokens["admin"], tokens["alice"]
    port = srv.port
    deploy(port, admin)

    st, doc = request(port, "GET", "/api/v1/admin/clock", token=admin)
    check(st == 200 and doc["now"] == "2026-11-23T11:00:00.000Z", "clock starts at FLOWD_NOW: %r"
          % doc)
    st, doc = request(port, "GET", "/api/v1/admin/clock", token=alice)
    check(st == 403, "clock is for administrators: %d" % st)
    for bad in ({}, {"now": "2026-02-30T00:00:00Z"}, {"advance": "P"},
                {"now": "2026-11-23T11:00:00Z", "advance": "PT1H"}, {"later": 1}):
        st, doc = request(port, "POST", "/api/v1/admin/clock", bad, admin)
        check(st == 400 and doc["status"] == 400, "bad clock body %r: %r" % (bad, doc))

    st, doc = request(port, "POST", "/api/v1/instances", {"process_key": "deal"}, admin)
    check(st == 201, "start: %r" % doc)
    iid = doc["id"]
    st, doc = request(port, "POST", "/api/v1/instances", {"process_key": "deal"}, admin)
    other = doc["id"]
    st, tasks = request(port, "GET", "/api/v1/tasks?instance=%d" % other, token=admin)
    other_task = tasks["items"][0]["id"]
    check(tasks["items"][0]["due_at"] == "2026-11-23T12:00:00.000Z", "due: %r" % tasks)

    # the other case is done before anything is due: its timers go with its task
    st, doc = request(port, "POST", "/api/v1/tasks/%d/complete" % other_task, {}, alice)
    check(st == 200, "complete: %r" % doc)

    check(kinds(port, alice) == [], "nothing yet")
    advance(port, admin, "PT30M")
    check(kinds(port, alice) == [], "nothing at 11:30")
    advance(port, admin, "PT15M")  # 11:45: the reminder
    check(kinds(port, alice) == ["reminder"], "reminder for alice: %r" % kinds(port, alice))
    n = inbox(port, alice)["items"][0]
    check(n["instance_id"] == iid and n["node_id"] == "offer" and "'Offer'" in n["message"],
          "reminder: %r" % n)
    check(kinds(port, tokens["carol"]) == [], "carol not reminded")
    check([e for e in history(port, iid, admin) if e["type"] == "task_reminded"], "reminded")

    st, doc = request(port, "GET", "/api/v1/tasks?overdue=true", token=admin)
    check(doc["items"] == [], "not overdue yet: %r" % doc)
    advance(port, admin, "PT15M")  # 12:00: the deadline
    check(escalations(port, iid, admin) == [0], "escalated level 0: %r"
          % escalations(port, iid, admin))
    check(kinds(port, alice) == ["overdue", "reminder"], "alice: %r" % kinds(port, alice))
    check(kinds(port, tokens["carol"]) == ["escalation"], "accountable role told")
    check(kinds(port, tokens["boss"]) == ["escalation"], "department head told")
    check(kinds(port, tokens["dan"]) == [], "director not yet")

    advance(port, admin, "PT2H")  # 14:00: level 1
    st, doc = request(port, "GET", "/api/v1/tasks?overdue=true", token=admin)
    check([t["instance_id"] for t in doc["items"]] == [iid], "overdue on the test clock: %r" % doc)
    check(escalations(port, iid, admin) == [0, 1], "level 1: %r" % escalations(port, iid, admin))
    check(kinds(port, tokens["dan"]) == ["escalation"], "director told at level 1")
    check(kinds(port, tokens["carol"]) == ["escalation"], "carol only once")
    advance(port, admin, "P10D")
    check(escalations(port, iid, admin) == [0, 1], "no more levels")
    for e in history(port, other, admin):
        check(e["type"] not in ("task_reminded", "escalated"), "completed case stays quiet")

    # read / unread / paging / someone else's
    items = inbox(port, alice)["items"]
    first = items[0]["id"]
    page = inbox(port, alice, limit=1)
    check(len(page["items"]) == 1 and page["next_after"] == first, "page: %r" % page)
    check(inbox(port, alice, after=first)["items"][0]["id"] == items[1]["id"], "cursor")
    st, doc = request(port, "POST", "/api/v1/notifications/%d/read" % first, {}, tokens["carol"])
    check(st == 404, "not carol's: %d %r" % (st, doc))
    st, doc = request(port, "POST", "/api/v1/notifications/%d/read" % first, {}, alice)
    check(st == 200 and doc["read"], "read: %r" % doc)
    unread = inbox(port, alice, unread=True)["items"]
    check([n["id"] for n in unread] == [items[1]["id"]], "unread: %r" % unread)
    check(inbox(port, alice)["items"][0]["read_at"] is not None, "read_at set")
    st, doc = request(port, "POST", "/api/v1/notifications/999999/read", {}, alice)
    check(st == 404, "unknown notification: %d" % st)
    st, doc = request(port, "GET", "/api/v1/notifications?unread=maybe", token=alice)
    check(st == 400 and doc["field"] == "unread", "bad unread: %r" % doc)
    st, doc = request(port, "GET", "/api/v1/notifications")
    check(st == 401, "anonymous: %d" % st)

    # the scheduler's counters: reminder, deadline and level 1 of the one case
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics")
    metrics = conn.getresponse().read().decode()
    conn.close()
    check("flowd_timers_fired_total 3\n" in metrics, "metrics: fired")
    check("flowd_timer_lateness_seconds_count 3\n" in metrics, "metrics: lateness")

    # the CLI reads the same inbox
    out = cli(DB, "notifications", "--user", "alice", "--unread")
    check("overdue" in out and "reminder" not in out, "cli unread: %r" % out)
    out = cli(DB, "notifications", "--user", "boss", "--json")
    check('"kind": "escalation"' in out or '"kind":"escalation"' in out, "cli json: %r" % out)
    check(srv.stop() == 0, "SIGTERM exits 0")

    # without --test-clock the clock endpoints do not exist
    srv = Server(DB, os.path.join(TMP, "server.log"), test_clock=False, now=None)
    SERVERS.append(srv)
    st, doc = request(srv.port, "GET", "/api/v1/admin/clock", token=admin)
    check(st == 404, "no test clock: %d %r" % (st, doc))
    st, doc = request(srv.port, "POST", "/api/v1/admin/clock", {"advance": "PT1H"}, admin)
    check(st == 404, "no test clock (post): %d" % st)
    check(srv.stop() == 0, "SIGTERM exits 0")
    print("test_timers: all checks passed")


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
