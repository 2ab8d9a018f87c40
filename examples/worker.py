#!/usr/bin/env python3
"""A job worker for flowd, standard library only: the loop every worker runs.

    activate jobs of a type (long poll: the server answers as soon as one appears)
    -> do the work -> complete with variables (or fail: retries - 1, with a backoff)

Run it beside `flowd serve`:

    FLOWD_TOKEN=fl_... examples/worker.py --server http://127.0.0.1:8080 --type charge

The work here is a stand-in: it reads `amount`, refuses a negative one with the BPMN error
NEGATIVE_AMOUNT (an error boundary event can catch it), and sets `charged` and
`charged_by`. Replace `work()` with yours. --count N stops after N jobs (tests)."""
import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request


class BpmnError(Exception):
    """Thrown by work(): the job ends in a BPMN error the process may catch."""

    def __init__(self, code, message=""):
        super().__init__(message or code)
        self.code = code


def work(job):
    """The business logic: variables in, variables out."""
    amount = job["variables"].get("amount", 0)
    if not isinstance(amount, (int, float)):
        raise ValueError("amount is not a number: %r" % (amount,))
    if amount < 0:
        raise BpmnError("NEGATIVE_AMOUNT", "cannot charge %s" % amount)
    currency = job["headers"].get("currency", "EUR")
    return {"charged": "%s %s" % (amount, currency), "charged_by": job["worker"]}


class Client:
    def __init__(self, server, token):
        self.server = server.rstrip("/")
        self.token = token

    def post(self, path, body, timeout=60):
        req = urllib.request.Request(self.server + path, data=json.dumps(body).encode(),
                                     method="POST")
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", default=os.environ.get("FLOWD_SERVER", "http://127.0.0.1:8080"))
    ap.add_argument("--token", default=os.environ.get("FLOWD_TOKEN"))
    ap.add_argument("--type", required=True, help="job type to work on")
    ap.add_argument("--worker", default="worker-%d" % os.getpid())
    ap.add_argument("--max-jobs", type=int, default=10, help="jobs per activation")
    ap.add_argument("--lock", default="PT1M", help="how long a job stays ours")
    ap.add_argument("--poll", default="PT30S", help="long poll: wait this long for jobs")
    ap.add_argument("--count", type=int, default=0, help="stop after this many jobs")
    args = ap.parse_args()
    api = Client(args.server, args.token)
    done = 0
    while not args.count or done < args.count:
        st, doc = api.post("/api/v1/jobs/activate",
                           {"type": args.type, "worker": args.worker, "max_jobs": args.max_jobs,
                            "timeout": args.lock, "request_timeout": args.poll}, timeout=120)
        if st != 200:
            print("activate: %s %s" % (st, doc), file=sys.stderr)
            time.sleep(5)  # the server is down or refuses us: do not spin
            continue
        for job in doc["jobs"]:
            path = "/api/v1/jobs/%d/" % job["id"]
            try:
                out = work(job)
                st, doc = api.post(path + "complete", {"worker": args.worker, "variables": out})
            except BpmnError as e:
                st, doc = api.post(path + "throw-error", {"worker": args.worker,
                                                          "error_code": e.code,
                                                          "error_message": str(e)})
            except Exception as e:  # a failure: retry later, an incident when none are left
                st, doc = api.post(path + "fail", {"worker": args.worker,
                                                   "retries": max(job["retries"] - 1, 0),
                                                   "error_message": str(e),
                                                   "retry_backoff": "PT10S"})
            # 409: our lock ran out and another worker has the job; it is theirs now.
            if st not in (200, 409):
                print("job %d: %s %s" % (job["id"], st, doc), file=sys.stderr)
            print("job %d: %s" % (job["id"], doc.get("outcome") if st == 200 else st))
            done += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
