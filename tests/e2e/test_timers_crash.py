#!/usr/bin/env python3
"""Crash test of the scheduler: 10,000 pending timers of mixed kinds (5,000 reminders and
5,000 deadlines, whose firing sets 5,000 escalation timers more) come due on a test clock
while the server is killed with SIGKILL again and again in the middle of firing them. Each
restart starts the clock where the test had moved it, so overdue timers fire at once.
Afterwards every case's history shows each reminder and escalation level exactly once (none
lost, none twice) and no timer is left pending. No real sleeps beyond the random moment of
each kill."""
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timers_common import Failed, Server, add_people, check, deploy, request  # noqa: E402

TMP = tempfile.mkdtemp(prefix="flowd-tcrash-")
DB = os.path.join(TMP, "flowd.db")
LOG = os.path.join(TMP, "server.log")
CASES = int(os.environ.get("FLOWD_TIMER_CRASH_CASES", "5000"))
GROUPS = 50  # groups of cases start 20 s apart: due times spread over 17 minutes
SERVERS = []


def at(minutes, seconds=0):
    h, m = divmod(11 * 60 + minutes + seconds // 60, 60)
    return "2026-11-23T%02d:%02d:%02dZ" % (h, m, seconds % 60)


def start_cases(port, admin):
    ids = []
    lock = threading.Lock()

    def one(_):
        st, doc = request(port, "POST", "/api/v1/instances", {"process_key": "deal"}, admin)
        check(st == 201, "start: %r" % doc)
        with lock:
            ids.append(doc["id"])

    per = CASES // GROUPS
    with ThreadPoolExecutor(max_workers=16) as pool:
        for g in range(GROUPS):
            st, doc = request(port, "POST", "/api/v1/admin/clock", {"now": at(0, 20 * g)}, admin)
            check(st == 200, "clock: %r" % doc)
            list(pool.map(one, range(per)))
    return ids


def pending(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM timers").fetchone()[0]
    finally:
        con.close()


def main():
    srv = Server(DB, LOG, now=at(0))
    SERVERS.append(srv)
    tokens = add_people(DB)
    admin = tokens["admin"]
    deploy(srv.port, admin)
    ids = start_cases(srv.port, admin)
    check(len(ids) == CASES, "cases started")
    check(pending(DB) == 2 * CASES, "pending timers: %d" % pending(DB))

    rng = random.Random(int(os.environ.get("FLOWD_TEST_SEED", "4")))
    kills = 0
    after_kill = []  # pending timers right after each kill: shows the kills hit mid-firing
    # minutes past 11:00: reminders fall due from 45 to 62, deadlines from 60 to 77, level 1
    # from 180 to 197
    for target in (50, 58, 65, 72, 80, 185, 190, 196, 240):
        result = {}

        def advance():
            try:
                result["r"] = request(srv.port, "POST", "/api/v1/admin/clock",
                                      {"now": at(target)}, admin)
            except (ConnectionError, OSError) as e:
                result["e"] = e

        t = threading.Thread(target=advance)
        t.start()
        time.sleep(rng.uniform(0.02, 0.4))  # the moment of the crash, not a wait for work
        srv.stop(kill=True)
        kills += 1
        t.join()
        after_kill.append(pending(DB))
        # restart where the clock was being moved to: everything overdue fires at once
        srv = Server(DB, LOG, now=at(target))
        SERVERS.append(srv)
        st, doc = request(srv.port, "POST", "/api/v1/admin/clock", {"advance": "PT0S"}, admin)
        check(st == 200 and doc["settled"], "settled after restart: %r" % doc)

    st, doc = request(srv.port, "POST", "/api/v1/admin/clock", {"now": at(12 * 60)}, admin)
    check(st == 200 and doc["settled"], "final settle: %r" % doc)
    check(srv.stop() == 0, "SIGTERM exits 0")
    check(pending(DB) == 0, "no timer left pending: %d" % pending(DB))

    # history: each case reminded once and escalated once per level
    srv = Server(DB, LOG, now=at(12 * 60))
    SERVERS.append(srv)
    bad = []
    lock = threading.Lock()

    def audit(iid):
        st, doc = request(srv.port, "GET", "/api/v1/instances/%d/history" % iid, token=admin)
        check(st == 200, "history: %r" % doc)
        rem = sum(1 for e in doc["items"] if e["type"] == "task_reminded")
        lv = sorted(e["detail"]["level"] for e in doc["items"] if e["type"] == "escalated")
        if rem != 1 or lv != [0, 1]:
            with lock:
                bad.append((iid, rem, lv))

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(audit, ids))
    check(not bad, "%d cases fired wrong, e.g. %r" % (len(bad), bad[:5]))
    st, doc = request(srv.port, "GET", "/api/v1/notifications?limit=1", token=tokens["dan"])
    check(st == 200 and doc["items"], "director has escalations")
    check(srv.stop() == 0, "SIGTERM exits 0")
    print("test_timers_crash: %d cases, %d timers fired exactly once across %d kills"
          " (pending right after each kill: %s)" % (CASES, 3 * CASES, kills, after_kill))


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
