#!/usr/bin/env python3
"""End-to-end test of the CRM records over HTTP: starts a real `flowd serve` on a free port
with a temporary database and drives /api/v1/companies, contacts, leads, deals and
activities -- create, get, list with filters, search and cursor, patch, soft delete; bad
input (phone, e-mail, amount, currency mismatch, unknown company, unknown field, duplicate
external id, malformed JSON) answered with the field named and nothing stored;
Idempotency-Key on create; and the access rules of every record type for the owner, the
head of the owner's department, a stranger, a read-only token and an administrator. The
CLI commands are checked against the same database. Python standard library only."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

FLOWD = os.environ.get("FLOWD_BINARY", "build/flowd")
SRC = os.environ.get("FLOWD_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
TMP = tempfile.mkdtemp(prefix="flowd-crm-")
DB = os.path.join(TMP, "flowd.db")
TOKENS = {}
FAILED = []
SERVERS = []
ENV = dict(os.environ, FLOWD_ARGON2_MEMORY_KIB="64", FLOWD_ARGON2_ITERATIONS="1",
           FLOWD_PHONE_COUNTRY="49")
ENV.pop("FLOWD_DB", None)


def check(cond, what):
    if not cond:
        FAILED.append(what)
        print("FAIL:", what, file=sys.stderr)
        raise SystemExit(1)


class Server:
    def __init__(self):
        SERVERS.append(self)
        self.log = open(os.path.join(TMP, "server.log"), "a")
        self.p = subprocess.Popen([FLOWD, "serve", "--db", DB, "--port", "0", "--threads", "4"],
                                  stdout=subprocess.PIPE, stderr=self.log, env=ENV, text=True)
        line = self.p.stdout.readline()
        m = re.match(r"listening on http://127\.0\.0\.1:(\d+)$", line.strip())
        check(m is not None, "server printed its address: %r" % line)
        self.port = int(m.group(1))

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=30)
        self.log.close()
        return rc


PORT = 0


def req(method, path, body=None, who=None, raw=None, headers=None):
    h = dict(headers or {})
    if who:
        h["Authorization"] = "Bearer " + TOKENS[who]
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    payload = r.read()
    ctype = r.getheader("Content-Type") or ""
    conn.close()
    doc = json.loads(payload) if "json" in ctype and payload else None
    return r.status, doc, r


def cli(*args, stdin=None, rc=0):
    r = subprocess.run([FLOWD] + list(args) + ["--db", DB], input=stdin, capture_output=True,
                       text=True, env=ENV)
    check(r.returncode == rc, "flowd %s: exit %d, wanted %d: %s" % (" ".join(args),
                                                                      r.returncode, rc, r.stderr))
    return r.stdout, r.stderr


def problem(st, doc, code, field=None, what=""):
    check(st == code and doc is not None and doc.get("status") == code,
          "%s: status %d, wanted %d: %r" % (what, st, code, doc))
    check(doc["type"].startswith("https://flowd.dev/problems/"), "problem type %r" % doc)
    if field:
        check(doc.get("field") == field, "%s: problem names field %s: %r" % (what, field, doc))


def ids(path, who):
    out = []
    after = 0
    while True:
        sep = "&" if "?" in path else "?"
        st, doc, _ = req("GET", "%s%safter=%d&limit=2" % (path, sep, after), who=who)
        check(st == 200, "list %s as %s: %d %r" % (path, who, st, doc))
        out += [x["id"] for x in doc["items"]]
        if doc["next_after"] is None:
            return out
        after = doc["next_after"]


def count(plural):
    return len(ids("/api/v1/" + plural, "admin"))


def people():
    cli("user", "add", "admin", "--admin", "--password-stdin", stdin="admin-pw-1\n")
    cli("user", "add", "hedda", "--password-stdin", stdin="hedda-pw-1\n")
    cli("department", "add", "Sales", "--head", "hedda")
    cli("department", "add", "Sales EU", "--parent", "Sales")
    cli("department", "add", "Ops")
    cli("user", "add", "anna", "--department", "Sales EU", "--password-stdin", stdin="anna-pw-1\n")
    cli("user", "add", "bob", "--department", "Ops", "--password-stdin", stdin="bob-pw-1\n")
    cli("user", "add", "sam", "--password-stdin", stdin="sam-pw-1\n")
    for login, scope in (("admin", "admin"), ("anna", "write"), ("bob", "write"),
                         ("hedda", "write"), ("sam", "write")):
        out, _ = cli("token", "create", "--user", login, "--scope", scope, "--json")
        TOKENS[login] = json.loads(out)["token"]
    out, _ = cli("token", "create", "--user", "anna", "--scope", "read", "--json")
    TOKENS["anna_read"] = json.loads(out)["token"]
    cli("deploy", os.path.join(SRC, "examples", "sales.bpmn"))  # a deal's pipeline is a process


def create(plural, body, who="anna", code=201):
    st, doc, r = req("POST", "/api/v1/" + plural, body, who)
    check(st == code, "create %s %r: %d %r" % (plural, body, st, doc))
    if code == 201:
        check(r.getheader("Location") == "/api/v1/%s/%d" % (plural, doc["id"]),
              "Location of %s" % plural)
    return doc


def crud():
    co = create("companies", {"name": "Acme GmbH", "tax_id": "DE123456789",
                              "industry": "machinery", "addresses": ["Hauptstr. 1, 10115 Berlin"],
                              "phones": ["030 1234567", "+49 (30) 123-4567"],
                              "emails": ["Info@ACME.DE"], "external_id": "erp-1"})
    check(co["phones"] == ["+49301234567"], "phones normalised and deduplicated: %r" % co)
    check(co["emails"] == ["Info@acme.de"], "e-mail domain lower-cased: %r" % co)
    check(co["owner"] == "anna" and co["created_by"] == "anna", "owner defaults to the actor")
    ct = create("contacts", {"first_name": "Jörg", "last_name": "Müller",
                             "phones": ["0171 5551234"], "emails": ["joerg@acme.de"],
                             "company_id": co["id"], "position": "buyer",
                             "birthday": "1980-02-29"})
    ld = create("leads", {"title": "Inquiry from the fair", "source": "fair",
                          "channel": "call", "utm_campaign": "autumn",
                          "tracking_phone": "+49 800 1234567", "contact_id": ct["id"],
                          "company_id": co["id"],
                          "first_response_due": "2026-11-23T13:00:00+01:00"})
    check(ld["status"] == "new" and ld["first_response_due"] == "2026-11-23T12:00:00.000Z",
          "lead defaults and time in UTC: %r" % ld)
    dl = create("deals", {"title": "Press line 5", "pipeline": "sales", "amount": "125000.5",
                          "currency": "EUR", "probability": 40, "company_id": co["id"],
                          "contact_ids": [ct["id"]], "department": "Sales EU",
                          "expected_close": "2026-12-31"})
    check(dl["amount"] == "125000.50" and dl["status"] == "open" and dl["instance_id"] is None,
          "deal money exact at the currency's scale: %r" % dl)
    # a JSON number with many digits stays exact (never a double)
    # (sent as raw text: Python's json would round the number through a double first)
    st, d2, _ = req("POST", "/api/v1/deals", who="anna",
                    raw=b'{"title":"Exact","amount":1234567890123456.78,"currency":"USD"}',
                    headers={"Content-Type": "application/json"})
    check(st == 201, "create deal from raw JSON: %r" % d2)
    check(d2["amount"] == "1234567890123456.78", "exact amount from a JSON number: %r" % d2)
    ac = create("activities", {"subject_type": "deal", "subject_id": dl["id"], "kind": "call",
                               "direction": "out", "duration_s": 95, "outcome": "reached",
                               "summary": "discussed delivery"})
    check(ac["at"] is not None, "activity time defaults to now")

    for plural, rec in (("companies", co), ("contacts", ct), ("leads", ld), ("deals", dl),
                        ("activities", ac)):
        st, doc, _ = req("GET", "/api/v1/%s/%d" % (plural, rec["id"]), who="anna")
        check(st == 200 and doc == rec, "get %s equals the create answer" % plural)

    # patch: only what is named changes; null clears; won sets won_at
    st, doc, _ = req("PATCH", "/api/v1/deals/%d" % dl["id"],
                     {"status": "won", "probability": 100, "pipeline": None}, "anna")
    check(st == 200 and doc["status"] == "won" and doc["won_at"] and doc["pipeline"] is None
          and doc["amount"] == "125000.50" and doc["title"] == "Press line 5",
          "patch deal: %r" % doc)
    st, doc, _ = req("PATCH", "/api/v1/leads/%d" % ld["id"], {"status": "converted"}, "anna")
    check(st == 200 and doc["status"] == "converted", "patch lead")
    st, doc, _ = req("PATCH", "/api/v1/activities/%d" % ac["id"], {"subject_id": 1}, "anna")
    problem(st, doc, 400, "subject_id", "an activity does not move")

    # lists: totals per currency, exact
    st, doc, _ = req("GET", "/api/v1/deals", who="anna")
    check(st == 200 and sorted((t["currency"], t["amount"]) for t in doc["totals"]) ==
          [("EUR", "125000.50"), ("USD", "1234567890123456.78")], "deal totals: %r" % doc)

    # delete: 204, then 404 everywhere; the list and the search forget it
    tmp = create("companies", {"name": "Shortlived Ltd"})
    st, _, _ = req("DELETE", "/api/v1/companies/%d" % tmp["id"], who="anna")
    check(st == 204, "delete company")
    st, doc, _ = req("GET", "/api/v1/companies/%d" % tmp["id"], who="anna")
    problem(st, doc, 404, what="deleted company")
    st, doc, _ = req("DELETE", "/api/v1/companies/%d" % tmp["id"], who="anna")
    problem(st, doc, 404, what="delete twice")
    st, doc, _ = req("GET", "/api/v1/companies?q=shortlived", who="admin")
    check(st == 200 and doc["items"] == [], "deleted company not found by search")
    st, doc, _ = req("POST", "/api/v1/contacts", {"last_name": "X", "company_id": tmp["id"]},
                     "anna")
    problem(st, doc, 400, "company_id", "reference to a deleted company")
    return co, ct, ld, dl, ac


def filters(co):
    for i in range(5):
        create("leads", {"title": "Lead %d" % i, "status": "qualified" if i % 2 else "new",
                         "company_id": co["id"] if i < 2 else None, "source": "web"})
    create("leads", {"title": "Bob's lead", "source": "web"}, who="bob")
    check(len(ids("/api/v1/leads?status=qualified", "admin")) == 2, "status filter")
    check(len(ids("/api/v1/leads?owner=bob", "admin")) == 1, "owner filter")
    check(len(ids("/api/v1/leads?company_id=%d" % co["id"], "admin")) == 3, "company filter")
    check(len(ids("/api/v1/leads?q=lead", "admin")) == 6, "search, paged by 2")
    check(len(ids("/api/v1/leads?q=lead&status=new&owner=anna", "admin")) == 3,
          "search with filters")
    st, doc, _ = req("GET", "/api/v1/contacts?q=muller", who="anna")
    check(st == 200 and len(doc["items"]) == 1, "search folds diacritics: %r" % doc)
    st, doc, _ = req("GET", "/api/v1/contacts?q=0171%20555", who="anna")
    check(st == 200 and len(doc["items"]) == 1, "search by phone as dialled: %r" % doc)
    st, doc, _ = req("GET", "/api/v1/companies?q=acme.de", who="anna")
    check(st == 200 and len(doc["items"]) == 1, "search by e-mail domain: %r" % doc)
    st, doc, _ = req("GET", "/api/v1/companies?q=%22%29%28*", who="anna")
    problem(st, doc, 400, "q", "search without words")
    st, doc, _ = req("GET", "/api/v1/companies?status=new", who="anna")
    problem(st, doc, 400, "status", "companies have no status")
    st, doc, _ = req("GET", "/api/v1/leads?company_id=abc", who="anna")
    problem(st, doc, 400, "company_id", "company_id must be an id")
    st, doc, _ = req("GET", "/api/v1/leads?limit=0", who="anna")
    problem(st, doc, 400, "limit", "limit out of range")


def bad_input(co, dl):
    before = {p: count(p) for p in ("companies", "contacts", "leads", "deals", "activities")}
    cases = [
        ("contacts", {"last_name": "X", "phones": ["+49 30 CALL-NOW"]}, 400, "phones"),
        ("contacts", {"last_name": "X", "phones": "030 1234567"}, 400, "phones"),
        ("contacts", {"last_name": "X", "emails": ["anna@localhost"]}, 400, "emails"),
        ("contacts", {"last_name": "X", "birthday": "1990-02-30"}, 400, "birthday"),
        ("contacts", {"last_name": "X", "company_id": 987654}, 400, "company_id"),
        ("contacts", {"position": "no name"}, 400, "last_name"),
        ("contacts", {"last_name": "X", "shoe_size": 42}, 400, "shoe_size"),
        ("contacts", {"last_name": "X", "owner": "bob"}, 400, "owner"),
        ("companies", {"name": "Dup", "external_id": "erp-1"}, 409, "external_id"),
        ("companies", {"tax_id": "no name"}, 400, "name"),
        ("companies", {"name": 5}, 400, "name"),
        ("leads", {"title": "L", "status": "hot"}, 400, "status"),
        ("leads", {"title": "L", "tracking_phone": "12"}, 400, "tracking_phone"),
        ("leads", {"title": "L", "first_response_due": "tomorrow"}, 400, "first_response_due"),
        ("deals", {"title": "D", "amount": "10.001", "currency": "EUR"}, 400, "amount"),
        ("deals", {"title": "D", "amount": 10}, 400, "currency"),
        ("deals", {"title": "D", "amount": 10, "currency": "EURO"}, 400, "currency"),
        ("deals", {"title": "D", "probability": 101}, 400, "probability"),
        ("deals", {"title": "D", "status": "lost"}, 400, "loss_reason"),
        ("deals", {"title": "D", "department": "Nowhere"}, 400, "department"),
        ("deals", {"title": "D", "contact_ids": [1, 99999]}, 400, "contact_ids"),
        ("deals", {"title": "D", "instance_id": 1}, 400, "instance_id"),
        ("deals", {"title": "D", "pipeline": "no_such_process"}, 400, "pipeline"),
        ("activities", {"subject_type": "deal", "subject_id": 99999, "kind": "call"}, 400,
         "subject_id"),
        ("activities", {"subject_type": "invoice", "subject_id": 1, "kind": "call"}, 400,
         "subject_type"),
        ("activities", {"subject_type": "deal", "subject_id": dl["id"], "kind": "fax"}, 400,
         "kind"),
    ]
    for plural, body, code, field in cases:
        st, doc, _ = req("POST", "/api/v1/" + plural, body, "anna")
        problem(st, doc, code, field, "POST %s %r" % (plural, body))
    st, doc, _ = req("POST", "/api/v1/companies", raw=b"{\"name\": ", who="anna",
                     headers={"Content-Type": "application/json"})
    problem(st, doc, 400, what="malformed JSON")
    st, doc, _ = req("POST", "/api/v1/companies", raw=b"[1]", who="anna",
                     headers={"Content-Type": "application/json"})
    problem(st, doc, 400, what="not an object")
    # currency mismatch: changing the currency of an amount without restating it
    st, doc, _ = req("PATCH", "/api/v1/deals/%d" % dl["id"], {"currency": "USD"}, "anna")
    problem(st, doc, 400, "currency", "currency mismatch")
    check("currency mismatch" in doc["detail"], "detail says currency mismatch: %r" % doc)
    st, doc, _ = req("PATCH", "/api/v1/deals/%d" % dl["id"], {"updated_at": "x"}, "anna")
    problem(st, doc, 400, "updated_at", "read-only member in a patch")
    st, doc, _ = req("PATCH", "/api/v1/companies/%d" % co["id"],
                     {"name": "Renamed", "emails": ["bad"]}, "anna")
    problem(st, doc, 400, "emails", "patch with a bad e-mail")
    st, doc, _ = req("GET", "/api/v1/companies/%d" % co["id"], who="anna")
    check(doc["name"] == "Acme GmbH", "a refused patch changes nothing: %r" % doc)
    st, doc, _ = req("GET", "/api/v1/deals/%d" % dl["id"], who="anna")
    check(doc["currency"] == "EUR" and doc["amount"] == "125000.50", "deal unchanged")
    after = {p: count(p) for p in before}
    check(before == after, "nothing stored by bad input: %r -> %r" % (before, after))


def idempotency():
    body = {"name": "Idem AG"}
    h = {"Idempotency-Key": "crm-key-1"}
    st1, d1, _ = req("POST", "/api/v1/companies", body, "anna", headers=h)
    st2, d2, _ = req("POST", "/api/v1/companies", body, "anna", headers=h)
    check(st1 == 201 and st2 == 201 and d1 == d2, "idempotent create replays: %r %r" % (d1, d2))
    st, doc, _ = req("GET", "/api/v1/companies?q=idem", who="anna")
    check(len(doc["items"]) == 1, "one company for one key")
    st, doc, _ = req("POST", "/api/v1/companies", {"name": "Other"}, "anna", headers=h)
    problem(st, doc, 422, what="same key, other body")


def access():
    recs = {}
    co = create("companies", {"name": "Anna's client"})
    recs["companies"] = co["id"]
    recs["contacts"] = create("contacts", {"last_name": "Client", "company_id": co["id"]})["id"]
    recs["leads"] = create("leads", {"title": "Anna's lead"})["id"]
    recs["deals"] = create("deals", {"title": "Anna's deal"})["id"]
    recs["activities"] = create("activities", {"subject_type": "lead",
                                               "subject_id": recs["leads"], "kind": "note"})["id"]
    sees = {"anna": True, "hedda": True, "admin": True, "bob": False, "sam": False}
    for plural, rid in recs.items():
        for who, visible in sees.items():
            st, doc, _ = req("GET", "/api/v1/%s/%d" % (plural, rid), who=who)
            check(st == (200 if visible else 404), "%s sees %s %d: %d" % (who, plural, rid, st))
            check((rid in ids("/api/v1/" + plural, who)) == visible,
                  "%s lists %s %d: %s" % (who, plural, rid, visible))
            if not visible:
                st, doc, _ = req("PATCH", "/api/v1/%s/%d" % (plural, rid), {}, who)
                problem(st, doc, 404, what="%s patches %s" % (who, plural))
                st, doc, _ = req("DELETE", "/api/v1/%s/%d" % (plural, rid), who=who)
                problem(st, doc, 404, what="%s deletes %s" % (who, plural))
        st, doc, _ = req("GET", "/api/v1/%s/%d" % (plural, rid), who="anna_read")
        check(st == 200, "a read token reads %s" % plural)
        st, doc, _ = req("PATCH", "/api/v1/%s/%d" % (plural, rid), {}, "anna_read")
        check(st == 403, "a read token cannot patch %s: %d" % (plural, st))
        st, doc, _ = req("GET", "/api/v1/%s/%d" % (plural, rid))
        check(st == 401, "anonymous %s: %d" % (plural, st))
    # invisible records cannot be referenced (same answer as missing)
    st, doc, _ = req("POST", "/api/v1/contacts", {"last_name": "B", "company_id": co["id"]}, "bob")
    problem(st, doc, 400, "company_id", "bob references anna's company")
    check("unknown company" in doc["detail"], "invisible reads as unknown: %r" % doc)
    st, doc, _ = req("POST", "/api/v1/activities",
                     {"subject_type": "deal", "subject_id": recs["deals"], "kind": "call"}, "sam")
    problem(st, doc, 400, "subject_id", "sam logs a call on anna's deal")
    # a deal placed in a department is seen by its head, whoever owns it
    bd = create("deals", {"title": "Bob's deal for Sales", "department": "Sales"}, who="bob")
    st, _, _ = req("GET", "/api/v1/deals/%d" % bd["id"], who="hedda")
    check(st == 200, "head of the deal's department sees it")
    st, _, _ = req("GET", "/api/v1/deals/%d" % bd["id"], who="anna")
    check(st == 404, "anna does not see bob's deal")
    # the head hands the lead on inside the department, not outside it
    st, doc, _ = req("PATCH", "/api/v1/leads/%d" % recs["leads"], {"owner": "bob"}, "hedda")
    problem(st, doc, 400, "owner", "head gives a lead outside the department")
    st, doc, _ = req("PATCH", "/api/v1/leads/%d" % recs["leads"], {"owner": "hedda"}, "hedda")
    check(st == 200 and doc["owner"] == "hedda", "head takes the lead over")
    st, _, _ = req("GET", "/api/v1/leads/%d" % recs["leads"], who="anna")
    check(st == 404, "anna no longer sees the lead she gave away")
    st, _, _ = req("GET", "/api/v1/activities/%d" % recs["activities"], who="anna")
    check(st == 404, "activities follow their record")
    st, doc, _ = req("PATCH", "/api/v1/leads/%d" % recs["leads"], {"owner": "bob"}, "admin")
    check(st == 200 and doc["owner"] == "bob", "admin gives the lead to anyone")


def cli_checks():
    out, _ = cli("company", "list", "--search", "acme")
    check("Acme GmbH" in out, "CLI lists what the API stored: %r" % out)
    out, _ = cli("deal", "add", "--title", "From the CLI", "--amount", "99.9", "--currency",
                 "EUR", "--as", "anna", "--json")
    d = json.loads(out)
    check(d["amount"] == "99.90" and d["owner"] == "anna", "CLI deal: %r" % d)
    st, doc, _ = req("GET", "/api/v1/deals/%d" % d["id"], who="anna")
    check(st == 200 and doc["title"] == "From the CLI", "API sees the CLI's deal")
    _, err = cli("contact", "add", "--last-name", "X", "--phones", "abc", rc=1)
    check("phones" in err, "CLI names the field: %r" % err)
    _, err = cli("deal", "show", str(d["id"]), "--as", "bob", rc=2)
    out, _ = cli("lead", "list", "--status", "qualified", "--json")
    check(len(json.loads(out)["items"]) == 2, "CLI list filter")


def main():
    global PORT
    people()
    srv = Server()
    PORT = srv.port
    co, ct, ld, dl, ac = crud()
    filters(co)
    bad_input(co, dl)
    idempotency()
    access()
    cli_checks()
    check(srv.stop() == 0, "SIGTERM exits 0")
    print("test_crm: all checks passed")


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
