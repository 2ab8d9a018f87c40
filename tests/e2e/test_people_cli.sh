#!/usr/bin/env bash
# End-to-end test of the people and access commands of the flowd CLI: roles, departments
# (a tree with heads), users (generated password printed once, --password-stdin, roles and
# department checked), API tokens (printed once, stored only as a SHA-256 hash, scope
# checked against the admin flag, revoked), listings in text and JSON, and every bad input
# with its exit code and the proof that nothing stored changed.
set -euo pipefail

# shellcheck source=cli/lib.sh
. "${FLOWD_SOURCE_DIR:?FLOWD_SOURCE_DIR must name the source tree}/tests/e2e/cli/lib.sh"
# Cheap argon2 for the test run; the production default is exercised by the unit tests.
export FLOWD_ARGON2_MEMORY_KIB=64 FLOWD_ARGON2_ITERATIONS=1

# ---- help, usage ----
run 0 help user
has "--password-stdin"
run 0 user --help
has "flowd user add LOGIN"
run 0 token --help
has "--scope read|write|admin"
run 1 user
one_error_line
err_has "missing subcommand"
run 1 user frob
one_error_line
err_has "unknown subcommand 'frob'"
run 1 user add
one_error_line
run 1 token create --user x
one_error_line
err_has "--scope"
run 1 token create --user x --scope root
one_error_line
err_has "invalid scope 'root'"
run 1 role add a b
one_error_line

# ---- nothing exists yet: listings of a missing database say so ----
run 2 user list
one_error_line

# ---- roles ----
run 0 role add sales_manager --description "Sales manager"
has "role 'sales_manager' added (id 1)"
run 0 role add accountant --json
json 'assert d == {"id": 2, "name": "accountant"}'
run 3 role add accountant
one_error_line
err_has "role 'accountant' already exists"
run 1 role add 'bad,role'
one_error_line
run 0 role list
has "sales_manager  Sales manager"
run 0 role list --json
json 'assert [r["name"] for r in d["roles"]] == ["accountant", "sales_manager"]'

# ---- users: the first admin gets a generated password, shown once ----
run 0 user add boss --admin --name "The Boss" --email boss@example.org
has "user 'boss' added (id 1, admin)"
err_has "shown only this once"
pw=$(sed -n 's/^password: //p' "$out")
[ "${#pw}" -eq 20 ] || fail "generated password '$pw' is not 20 characters"
run 0 user add second --json
jget pw2 'd["password"]'
[ "${#pw2}" -eq 20 ] && [ "$pw2" != "$pw" ] || fail "second generated password '$pw2'"
run 0 user add alice --password-stdin --role sales_manager --email a@example.org <<<"alice pw"
lacks "password:"
[ ! -s "$err" ] || fail "stderr not empty for --password-stdin"

# ---- departments ----
run 0 department add Sales --head boss
has "department 'Sales' added (id 1)"
run 0 department add "Sales EU" --parent Sales --head alice --json
json 'assert d == {"id": 2, "name": "Sales EU", "parent": "Sales", "head": "alice"}'
run 0 department add Ops
run 3 department add Ops
one_error_line
run 2 department add X --parent Nowhere
one_error_line
err_has "department 'Nowhere' not found"
run 2 department add Y --head ghost
one_error_line
err_has "user 'ghost' not found"
run 0 department list
has "Sales EU  Sales   alice"
run 0 department list --json
json 'assert [x["name"] for x in d["departments"]] == ["Ops", "Sales", "Sales EU"]'

run 0 user add bob --department "Sales EU" --role accountant --role sales_manager --password-stdin <<<"bob pw"
run 0 user list
has "bob"
has "accountant,sales_manager"
has "admin"
run 0 user list --json
json '
u = {x["login"]: x for x in d["users"]}
assert sorted(u) == ["alice", "bob", "boss", "second"]
assert u["bob"]["department"] == "Sales EU" and u["bob"]["roles"] == ["accountant", "sales_manager"]
assert u["boss"]["admin"] is True and u["alice"]["admin"] is False
assert u["alice"]["email"] == "a@example.org" and u["boss"]["name"] == "The Boss"
assert all("password" not in x and "password_hash" not in x for x in d["users"])'

# ---- bad users change nothing ----
before=$(snapshot)
run 3 user add alice --password-stdin <<<"again"
one_error_line
err_has "user 'alice' already exists"
run 2 user add carl --role nope --password-stdin <<<"pw"
one_error_line
err_has "role 'nope' not found"
run 2 user add carl --department Nowhere --password-stdin <<<"pw"
one_error_line
run 1 user add "carl smith" --password-stdin <<<"pw"
one_error_line
err_has "invalid login"
run 1 user add carl --email not-an-address --password-stdin <<<"pw"
one_error_line
run 1 user add carl --password-stdin </dev/null
one_error_line
err_has "empty password"
[ "$(snapshot)" = "$before" ] || fail "a refused user add changed the database"

# ---- secrets at rest: argon2id hashes, no clear text ----
if command -v sqlite3 >/dev/null; then
    hashes=$(sqlite3 -readonly "$FLOWD_DB" "SELECT password_hash FROM users ORDER BY id")
    [ "$(grep -c '^\$argon2id\$v=19\$m=64,t=1,p=1\$' <<<"$hashes")" -eq 4 ] ||
        fail "passwords not stored as argon2id: $hashes"
    ! sqlite3 -readonly "$FLOWD_DB" .dump | grep -qF -- "$pw" || fail "clear password stored"
    ! sqlite3 -readonly "$FLOWD_DB" .dump | grep -qF -- "alice pw" || fail "clear password stored"
fi

# ---- new password, disable, enable ----
run 0 user passwd alice --password-stdin <<<"alice pw 2"
has "user 'alice' password changed"
lacks "password:"
run 0 user passwd second --json
jget pw3 'd["password"]'
[ "${#pw3}" -eq 20 ] && [ "$pw3" != "$pw2" ] || fail "new generated password '$pw3'"
run 2 user passwd ghost --password-stdin <<<"x"
one_error_line
run 1 user disable alice --password-stdin
one_error_line
run 1 user disable
one_error_line
run 0 user disable bob
has "user 'bob' disabled"
run 0 user list --json
json 'assert [u["disabled"] for u in d["users"] if u["login"] == "bob"] == [True]'
run 0 user enable bob --json
json 'assert d == {"login": "bob", "disabled": False}'
run 2 user enable ghost
one_error_line
if command -v sqlite3 >/dev/null; then
    [ "$(sqlite3 -readonly "$FLOWD_DB" "SELECT count(*) FROM users WHERE disabled")" = 0 ] ||
        fail "a user is still disabled"
fi

# ---- tokens ----
run 0 token create --user alice --scope write --name ci
has "token 1 for 'alice' (write)"
err_has "shown only this once"
tok=$(sed -n 2p "$out")
[[ "$tok" =~ ^fl_[A-Za-z0-9_-]{43}$ ]] || fail "token '$tok' is not fl_<43 base64url>"
run 0 token create --user boss --scope admin --json
jget tok2 'd["token"]'
json 'assert d["id"] == 2 and d["scope"] == "admin" and d["user"] == "boss"'
[ "$tok2" != "$tok" ] || fail "two tokens are equal"
before=$(snapshot)
run 3 token create --user alice --scope admin
one_error_line
err_has "not an admin"
run 2 token create --user ghost --scope read
one_error_line
[ "$(snapshot)" = "$before" ] || fail "a refused token create changed the database"
if command -v sqlite3 >/dev/null; then
    want=$(printf '%s' "$tok" | sha256sum | cut -d' ' -f1)
    got=$(sqlite3 -readonly "$FLOWD_DB" "SELECT hash FROM api_tokens WHERE id = 1")
    [ "$got" = "$want" ] || fail "token 1 not stored as its SHA-256 ($got)"
    ! sqlite3 -readonly "$FLOWD_DB" .dump | grep -qF -- "${tok#fl_}" || fail "clear token stored"
fi
run 0 token list
has "ci"
lacks "$tok"
run 0 token list --user alice --json
json 'assert [(t["id"], t["name"], t["scope"], t["revoked_at"]) for t in d["tokens"]] == [(1, "ci", "write", None)]'
run 0 token revoke 1
has "token 1 revoked"
run 0 token revoke 1
run 2 token revoke 99
one_error_line
run 1 token revoke abc
one_error_line
run 0 token list --json
json '
t = {x["id"]: x for x in d["tokens"]}
assert t[1]["revoked_at"] == "2026-03-02T09:00:00.000Z" and t[2]["revoked_at"] is None'

echo "test_people_cli: $checks checks passed"
