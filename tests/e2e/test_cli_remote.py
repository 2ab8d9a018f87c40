#!/usr/bin/env python3
"""End-to-end test of the CLI's remote mode (--server / FLOWD_SERVER): one script of CLI
commands runs twice from the same starting database -- once locally on a copy of it, once
through a real `flowd serve` on the original -- and both runs must print the same tables,
JSON, error lines and exit codes (only times, which come from two clocks, and freshly
minted tokens are normalised). Then what only remote mode has: bad, missing and
read-only tokens, a server that is down, options that exclude each other, the token never
appearing in any output, and an Idempotency-Key reused on the one retry after a dropped
connection (against a small fake server). Python standard library only; the real token
is passed through FLOWD_TOKEN, never on a command line."""
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading

FLOWD = os.environ.get("FLOWD_BINARY", "build/flowd")
SRC = os.environ.get("FLOWD_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(SRC, "tests", "e2e", "cli")
TMP = tempfile.mkdtemp(prefix="flowd-remote-")
SERVER_DB = os.path.join(TMP, "server.db")
LOCAL_DB = os.path.join(TMP, "local.db")
SECRETS = []  # tokens that must never show up in any output
CHECKS = [0]


def fail(what, *outputs):
    print("FAIL:", what, file=sys.stderr)
    for o in outputs:
        print("---", file=sys.stderr)
        print(o, file=sys.stderr)
    raise SystemExit(1)


def check(cond, what, *outputs):
    CHECKS[0] += 1
    if not cond:
        fail(what, *outputs)


def base_env():
    env = dict(os.environ, FLOWD_ARGON2_MEMORY_KIB="64", FLOWD_ARGON2_ITERATIONS="1")
    for k in ("FLOWD_DB", "FLOWD_SERVER", "FLOWD_TOKEN", "FLOWD_NOW", "FLOWD_CONFIG"):
        env.pop(k, None)
    return env


def flowd(args, env=None, stdin=None):
    e = base_env()
    e.update(env or {})
    r = subprocess.run([FLOWD] + list(args), input=stdin, capture_output=True, text=True,
                       env=e, timeout=120)
    for s in SECRETS:
        check(s not in r.stdout and s not in r.stderr, "a token was printed by %s" % (args,),
              r.stdout, r.stderr)
    return r.returncode, r.stdout, r.stderr


class Server:
    def __init__(self, db):
        env = base_env()
        self.log = open(os.path.join(TMP, "server.log"), "a")
        self.p = subprocess.Popen([FLOWD, "serve", "--db", db, "--port", "0", "--threads", "2"],
                                  stdout=subprocess.PIPE, stderr=self.log, env=env, text=True)
        line = self.p.stdout.readline()
        m = re.match(r"listening on (http://127\.0\.0\.1:\d+)$", line.strip())
        check(m is not None, "server printed its address: %r" % line)
        self.url = m.group(1)

    def stop(self):
        self.p.terminate()
        rc = self.p.wait(timeout=60)
        self.log.close()
        return rc


TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")
TOKEN = re.compile(r"fl_[A-Za-z0-9_-]{20,}")


def normal(text):
    """Times come from two clocks (the CLI's, the server's); new tokens are random."""
    return TOKEN.sub("<token>", TIME.sub("<time>", text))


def setup():
    rc, _, err = flowd(["user", "add", "admin", "--admin", "--password-stdin", "--db", SERVER_DB],
                       stdin="admin-pw-1\n")
    check(rc == 0, "user add admin", err)
    tokens = {}
    for scope in ("admin", "read"):
        rc, out, err = flowd(["token", "create", "--user", "admin", "--scope", scope, "--json",
                              "--db", SERVER_DB])
        check(rc == 0, "token create " + scope, out, err)
        tokens[scope] = json.loads(out)["token"]
        SECRETS.append(tokens[scope])
    # The local run starts from an exact copy, so ids agree between the two runs.
    src = sqlite3.connect(SERVER_DB)
    dst = sqlite3.connect(LOCAL_DB)
    src.backup(dst)
    dst.close()
    src.close()
    return tokens


# The script: (arguments, exit code wanted, standard input or None). Commands that act on
# the process take "--as admin" in the local run: remotely the token's user acts.
ACTS = {"start", "complete", "action"}


def script():
    approval = os.path.join(DATA, "approval.bpmn")
    approval2 = os.path.join(TMP, "approval2.bpmn")
    with open(approval) as f:
        text = f.read()
    with open(approval2, "w") as f:
        f.write(text.replace('name="Approval"', 'name="Approval (v2)"'))
    triage = os.path.join(DATA, "triage.bpmn")
    return [
        # people and access
        (["role", "add", "clerk", "--description", "Clerks of the back office"], 0, None),
        (["role", "add", "head"], 0, None),
        (["role", "add", "clerk"], 3, None),
        (["role", "list"], 0, None),
        (["role", "list", "--json"], 0, None),
        (["department", "add", "Sales", "--head", "admin"], 0, None),
        (["department", "add", "East", "--parent", "Sales", "--json"], 0, None),
        (["department", "add", "West", "--parent", "Nowhere"], 2, None),
        (["department", "list"], 0, None),
        (["department", "list", "--json"], 0, None),
        (["user", "add", "anna", "--role", "clerk", "--role", "head", "--department", "East",
          "--name", "Anna Ä", "--email", "anna@example.com", "--password-stdin"], 0, "anna-pw-1\n"),
        (["user", "add", "bob", "--password-stdin", "--json"], 0, "bob-pw-1\n"),
        (["user", "add", "carl", "--role", "nosuchrole", "--password-stdin"], 2, "pw-carl-1\n"),
        (["user", "add", "anna", "--password-stdin"], 3, "anna-pw-2\n"),
        (["user", "list"], 0, None),
        (["user", "disable", "bob"], 0, None),
        (["user", "disable", "nobody"], 2, None),
        (["user", "list", "--json"], 0, None),
        (["user", "enable", "bob", "--json"], 0, None),
        (["user", "passwd", "anna", "--password-stdin"], 0, "anna-pw-2\n"),
        (["user", "passwd", "anna", "--password-stdin"], 1, "\n"),
        (["user", "list"], 0, None),
        (["token", "create", "--user", "anna", "--scope", "write", "--name", "ci"], 0, None),
        (["token", "create", "--user", "bob", "--scope", "read", "--json"], 0, None),
        (["token", "create", "--user", "anna", "--scope", "admin"], 3, None),
        (["token", "list", "--user", "anna"], 0, None),
        (["token", "revoke", "3"], 0, None),
        (["token", "revoke", "99"], 2, None),
        (["token", "list", "--user", "anna", "--json"], 0, None),
        # deployments
        (["deploy", approval], 0, None),
        (["deploy", approval], 0, None),
        (["deploy", approval2, "--json"], 0, None),
        (["deploy", triage], 0, None),
        (["definitions"], 0, None),
        (["definitions", "--json"], 0, None),
        # a case from start to end
        (["start", "approval", "--business-key", "DEAL-1", "--var", "amount=1500.50",
          "--var", "client=ACME", "--var", "note:string=007", "--var", "signed:date=2026-01-31",
          "--var", "vip:bool=true", "--var", "items:json=[1, 2.50]", "--var", "ratio=0.1",
          "--json"], 0, None),
        (["start", "approval", "--version", "1", "--var", "amount=10", "--business-key",
          "DEAL-2"], 0, None),
        (["tasks"], 0, None),
        (["tasks", "--json"], 0, None),
        (["tasks", "--role", "clerk"], 0, None),
        (["tasks", "--role", "nobody", "--json"], 0, None),
        (["tasks", "--assignee", "nobody"], 0, None),
        (["tasks", "--instance", "1"], 0, None),
        (["complete", "1"], 3, None),
        (["action", "1"], 1, None),
        (["action", "1", "--kind", "document", "--ref", "offer-v1.pdf"], 0, None),
        (["complete", "1", "--var", "discount=5", "--json"], 0, None),
        (["complete", "1"], 3, None),
        (["action", "1", "--kind", "document"], 3, None),
        (["tasks", "--all", "--json"], 0, None),
        (["tasks", "--all"], 0, None),
        (["show", "1"], 0, None),
        (["show", "1", "--json"], 0, None),
        (["instances"], 0, None),
        (["instances", "--active", "--json"], 0, None),
        (["instances", "--process", "triage"], 0, None),
        # incidents, placed in the deployed XML
        (["start", "triage", "--business-key", "T-1"], 3, None),
        (["start", "triage", "--business-key", "T-2", "--json"], 3, None),
        (["instances", "--process", "triage", "--json"], 0, None),
        (["show", "3"], 0, None),
        (["show", "4", "--json"], 0, None),
        # bad input and things that are not there
        (["complete", "999999"], 2, None),
        (["show", "999999"], 2, None),
        (["start", "nosuchprocess"], 2, None),
        (["start", "approval", "--version", "99"], 2, None),
        (["start", "approval", "--var", "amount:number=abc"], 1, None),
        (["complete", "abc"], 1, None),
        (["tasks", "--instance", "abc"], 1, None),
        (["tasks", "--bogus"], 1, None),
        (["deploy", os.path.join(TMP, "does-not-exist.bpmn")], 2, None),
        (["instances"], 0, None),
    ]


def run_script(tokens, url):
    for args, want, stdin in script():
        local_args = list(args)
        if args[0] in ACTS:
            local_args += ["--as", "admin"]
        lrc, lout, lerr = flowd(local_args, {"FLOWD_DB": LOCAL_DB}, stdin)
        rrc, rout, rerr = flowd(args, {"FLOWD_SERVER": url, "FLOWD_TOKEN": tokens["admin"]},
                                stdin)
        what = "flowd " + " ".join(args)
        check(lrc == want, "%s: local exit %d, wanted %d" % (what, lrc, want), lout, lerr)
        check(rrc == want, "%s: remote exit %d, wanted %d" % (what, rrc, want), rout, rerr)
        check(normal(lout) == normal(rout), what + ": stdout differs between local and remote",
              "local:\n" + lout, "remote:\n" + rout)
        check(normal(lerr) == normal(rerr), what + ": stderr differs between local and remote",
              "local:\n" + lerr, "remote:\n" + rerr)
        if "--json" in args and want == 0:
            json.loads(rout)
        if want != 0:
            check(len(rerr.splitlines()) >= 1, what + ": an error line", rerr)


def one_line(err):
    return len(err.strip().splitlines()) == 1 and err.startswith("flowd: ")


def remote_only(tokens, url):
    good = {"FLOWD_SERVER": url, "FLOWD_TOKEN": tokens["admin"]}
    # a token the server does not know; the flag wins over the environment
    rc, out, err = flowd(["tasks"], {"FLOWD_SERVER": url, "FLOWD_TOKEN": "fl_" + "x" * 43})
    check(rc == 1 and one_line(err) and "not authorised" in err and "token" in err,
          "bad token", out, err)
    rc, out, err = flowd(["tasks", "--token", "fl_bogus"], good)
    check(rc == 1 and "not authorised" in err, "--token wins over FLOWD_TOKEN", out, err)
    rc, out, err = flowd(["tasks", "--server", url], {"FLOWD_SERVER": "http://127.0.0.1:1"})
    check(rc == 1 and "not authorised" in err and "wants a token" in err,
          "--server wins over FLOWD_SERVER; no token said so", out, err)
    # a read-only token may read but not act
    ro = {"FLOWD_SERVER": url, "FLOWD_TOKEN": tokens["read"]}
    rc, out, err = flowd(["instances"], ro)
    check(rc == 0 and "DEAL-1" in out, "read token reads", out, err)
    rc, out, err = flowd(["start", "approval"], ro)
    check(rc == 1 and one_line(err) and "not authorised" in err, "read token cannot start",
          out, err)
    rc, out, err = flowd(["role", "add", "x"], ro)
    check(rc == 1 and "not authorised" in err, "read token cannot add roles", out, err)
    # acting as someone else is the server's business
    rc, out, err = flowd(["start", "approval", "--as", "anna"], good)
    check(rc == 1 and one_line(err) and "--as" in err, "--as refused remotely", out, err)
    # a disabled user's token is refused at once; enabled again, it works
    rc, out, err = flowd(["token", "create", "--user", "bob", "--scope", "read", "--json"], good)
    check(rc == 0, "token for bob", out, err)
    bob = json.loads(out)["token"]
    SECRETS.append(bob)
    as_bob = {"FLOWD_SERVER": url, "FLOWD_TOKEN": bob}
    rc, out, err = flowd(["tasks"], as_bob)
    check(rc == 0, "bob reads", out, err)
    rc, out, err = flowd(["user", "disable", "bob"], good)
    check(rc == 0 and out == "user 'bob' disabled\n", "disable bob remotely", out, err)
    rc, out, err = flowd(["tasks"], as_bob)
    check(rc == 1 and "not authorised" in err, "a disabled user's token is refused", out, err)
    rc, out, err = flowd(["user", "enable", "bob"], good)
    rc, out, err = flowd(["tasks"], as_bob)
    check(rc == 0, "enabled again", out, err)
    # commands that make no sense remotely
    for args in (["serve", "--server", url], ["routes", "--server", url]):
        rc, out, err = flowd(args)
        check(rc == 1 and "--server" in err, "%s refuses --server" % args[0], out, err)
    rc, out, err = flowd(["tasks", "--db", LOCAL_DB, "--server", url], good)
    check(rc == 1 and "exclude" in err, "--db with --server", out, err)
    rc, out, err = flowd(["tasks", "--db", LOCAL_DB], good)
    check(rc == 0 and "Prepare offer" in out, "--db beats FLOWD_SERVER", out, err)
    # commands that only work on a database refuse a server instead of using a local file
    for args in (["control", "list"], ["notifications", "--user", "anna"], ["user", "list"]):
        rc, out, err = flowd(args + ["--server", url], good)
        if args[0] == "user":
            check(rc == 0, "user list works remotely", out, err)
            continue
        check(rc == 1 and "does not work through a server" in err and out == "",
              "%s refuses a server" % args[0], out, err)
    rc, out, err = flowd(["tasks", "--server", "ftp://example.com"], good)
    check(rc == 1 and "http" in err, "a URL that is not http(s)", out, err)
    # a server that is not there: one line naming the URL
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = "http://127.0.0.1:%d" % s.getsockname()[1]
    s.close()
    rc, out, err = flowd(["tasks"], {"FLOWD_SERVER": dead, "FLOWD_TOKEN": tokens["admin"]})
    check(rc == 74 and one_line(err) and dead in err, "server down", out, err)
    rc, out, err = flowd(["tasks"], {"FLOWD_SERVER": "http://no-such-host.invalid:8080",
                                     "FLOWD_TOKEN": tokens["admin"]})
    check(rc == 74 and one_line(err) and "no-such-host.invalid" in err, "unknown host", out, err)


def fake_server(answers):
    """Accept connections on a free port; answers[i] handles the i-th request: None closes
    the connection without a word, else (status, json body) is sent back. Records every
    request's headers."""
    seen = []
    accepted = []
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)

    def serve():
        i = 0
        while i < len(answers):
            conn, _ = lsock.accept()
            accepted.append(conn)
            with conn:
                buf = b""
                while i < len(answers):
                    while b"\r\n\r\n" not in buf:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        buf += chunk
                    if b"\r\n\r\n" not in buf:
                        break
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    lines = head.decode().split("\r\n")
                    headers = {k.lower(): v.strip() for k, v in
                               (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
                    n = int(headers.get("content-length", "0"))
                    while len(buf) < n:
                        buf += conn.recv(65536)
                    body, buf = buf[:n], buf[n:]
                    seen.append((lines[0], headers, body))
                    answer = answers[i]
                    i += 1
                    if answer is None:
                        break  # drop the connection: no answer at all
                    status, doc = answer
                    payload = json.dumps(doc).encode()
                    conn.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (status, len(payload), payload))
        lsock.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return "http://127.0.0.1:%d" % lsock.getsockname()[1], seen, t, accepted


def idempotent_retry():
    url, seen, t, _ = fake_server([None, (201, {"id": 7, "name": "x", "description": None})])
    rc, out, err = flowd(["role", "add", "x"], {"FLOWD_SERVER": url, "FLOWD_TOKEN": "fl_t"})
    t.join(30)
    check(rc == 0 and out == "role 'x' added (id 7)\n", "retry after a dropped connection",
          out, err)
    check(len(seen) == 2, "two attempts: %r" % (seen,))
    keys = [h.get("idempotency-key") for _, h, _ in seen]
    check(keys[0] and keys[0] == keys[1] and len(keys[0]) >= 16,
          "the retry carries the same Idempotency-Key: %r" % keys)
    check(all(h.get("authorization") == "Bearer fl_t" for _, h, _ in seen), "bearer token sent")
    check(json.loads(seen[0][2]) == {"name": "x"}, "body %r" % seen[0][2])
    # two commands get two keys; a problem+json answer maps to its exit code
    url, seen, t, _ = fake_server([
        (409, {"type": "https://flowd.dev/problems/conflict", "title": "conflict",
               "status": 409, "detail": "role 'y' exists"}),
    ])
    rc, out, err = flowd(["role", "add", "y"], {"FLOWD_SERVER": url, "FLOWD_TOKEN": "fl_t"})
    t.join(30)
    check(rc == 3 and err == "flowd: role 'y' exists\n", "409 problem", out, err)
    # the requests of one command share one kept-alive connection
    d = {"name": None, "checksum": "ab" * 32, "deployed_at": "2026-01-02T03:04:05.000Z"}
    url, seen, t, accepted = fake_server([
        (200, {"items": [dict(d, key="a", version=2, definition_id=3),
                         dict(d, key="b", version=1, definition_id=2)]}),
        (200, {"items": [dict(d, key="a", version=2, definition_id=3),
                         dict(d, key="a", version=1, definition_id=1)]}),
        (200, {"items": [dict(d, key="b", version=1, definition_id=2)]}),
    ])
    rc, out, err = flowd(["definitions"], {"FLOWD_SERVER": url, "FLOWD_TOKEN": "fl_t"})
    t.join(30)
    check(rc == 0 and [ln.split()[0] for ln in out.splitlines()[1:]] == ["3", "2", "1"],
          "definitions newest first", out, err)
    check(len(seen) == 3 and len(accepted) == 1, "3 requests on %d connection(s)" % len(accepted))
    check(all("idempotency-key" not in h for _, h, _ in seen), "no key on GET")


def main():
    tokens = setup()
    server = Server(SERVER_DB)
    try:
        run_script(tokens, server.url)
        remote_only(tokens, server.url)
    finally:
        rc = server.stop()
    check(rc == 0, "server stopped cleanly")
    idempotent_retry()
    shutil.rmtree(TMP, ignore_errors=True)
    print("ok: %d checks" % CHECKS[0])


if __name__ == "__main__":
    main()
