#!/usr/bin/env python3
"""Rough figures for the CRM records over HTTP, run by hand (never a timed test): starts
`flowd serve` on a temporary database, creates N contacts (one keep-alive client, as a
sales manager who owns them) and then times full-text searches and filtered lists as
the owner and as an administrator (p50 / p99 over 200 requests each).

    python3 bench/crm_http.py [N]          # FLOWD_BINARY=build/flowd by default

Not the issue's 1,000,000-record benchmark (a later slice): a smoke figure for the
write path (one transaction per record on the people connection) and the FTS5 query."""
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

FLOWD = os.environ.get("FLOWD_BINARY", "build/flowd")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
TMP = tempfile.mkdtemp(prefix="flowd-crmbench-")
DB = os.path.join(TMP, "flowd.db")
ENV = dict(os.environ, FLOWD_ARGON2_MEMORY_KIB="64", FLOWD_ARGON2_ITERATIONS="1",
           FLOWD_PHONE_COUNTRY="49")
NAMES = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Schulz", "Hoffmann", "Ivanov", "Smirnov", "Kuznetsov", "Popov", "Rossi", "Bianchi"]


def cli(*args, stdin=None):
    return subprocess.run([FLOWD] + list(args) + ["--db", DB], input=stdin, check=True,
                          capture_output=True, text=True, env=ENV).stdout


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def main():
    cli("user", "add", "admin", "--admin", "--password-stdin", stdin="admin-pw-1\n")
    cli("user", "add", "anna", "--password-stdin", stdin="anna-pw-1\n")
    tok = {u: json.loads(cli("token", "create", "--user", u, "--scope",
                             "admin" if u == "admin" else "write", "--json"))["token"]
           for u in ("admin", "anna")}
    srv = subprocess.Popen([FLOWD, "serve", "--db", DB, "--port", "0"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, env=ENV, text=True)
    try:
        port = int(re.search(r":(\d+)$", srv.stdout.readline().strip()).group(1))
        conn = http.client.HTTPConnection("127.0.0.1", port)

        def call(method, path, body, who):
            h = {"Authorization": "Bearer " + tok[who]}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                h["Content-Type"] = "application/json"
            t0 = time.perf_counter()
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            r.read()
            return r.status, time.perf_counter() - t0

        rnd = random.Random(7)
        t0 = time.perf_counter()
        for i in range(N):
            st, _ = call("POST", "/api/v1/contacts", {
                "first_name": "P%d" % i, "last_name": rnd.choice(NAMES),
                "phones": ["030 %07d" % rnd.randrange(10**7)],
                "emails": ["p%d@example%d.de" % (i, i % 97)]}, "anna")
            assert st == 201, st
        dt = time.perf_counter() - t0
        print("created %d contacts in %.2f s: %.0f/s (sequential, one client)" % (N, dt, N / dt))
        for who in ("anna", "admin"):
            for label, path in (("search q=schm", "/api/v1/contacts?q=schm&limit=50"),
                                ("search q=030 12", "/api/v1/contacts?q=030%2012&limit=50"),
                                ("list owner=anna", "/api/v1/contacts?owner=anna&limit=100")):
                lat = []
                for _ in range(200):
                    st, t = call("GET", path, None, who)
                    assert st == 200, st
                    lat.append(t * 1000)
                print("%-6s %-16s p50 %.2f ms  p99 %.2f ms" % (who, label, pct(lat, 0.5),
                                                             pct(lat, 0.99)))
    finally:
        srv.terminate()
        srv.wait()
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
