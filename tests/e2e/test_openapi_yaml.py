#!/usr/bin/env python3
"""docs/openapi.yaml is valid YAML and a well-formed OpenAPI 3.1 document: every operation
has responses and an operationId (unique), and every $ref points at something that exists.
(test_openapi_routes.c checks that its paths and the route table agree; this checks the
file itself, which a YAML-unaware reading cannot.) Needs PyYAML (Debian python3-yaml)."""
import os
import sys

try:
    import yaml
except ImportError:
    # another python3 first on PATH (pyenv): Debian's has python3-yaml (scripts/install-deps)
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

SRC = os.environ.get("FLOWD_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
FAILED = []


def check(cond, what):
    if not cond:
        FAILED.append(what)
        print("FAIL:", what, file=sys.stderr)


def refs(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                out.append(v)
            else:
                refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def resolve(doc, ref):
    if not ref.startswith("#/"):
        return False
    node = doc
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def main():
    with open(os.path.join(SRC, "docs", "openapi.yaml")) as f:
        doc = yaml.safe_load(f)
    check(str(doc.get("openapi", "")).startswith("3.1"), "openapi: 3.1.x")
    ids = set()
    n_ops = 0
    for path, item in doc["paths"].items():
        check(path.startswith("/"), "path %s starts with /" % path)
        for method, op in item.items():
            if method not in ("get", "put", "post", "delete", "patch"):
                continue
            n_ops += 1
            where = "%s %s" % (method.upper(), path)
            check(isinstance(op.get("responses"), dict) and op["responses"], where + " has responses")
            oid = op.get("operationId")
            check(oid and oid not in ids, where + " has a unique operationId")
            ids.add(oid)
    found = []
    refs(doc, found)
    for r in sorted(set(found)):
        check(resolve(doc, r), "$ref %s resolves" % r)
    check(n_ops > 20, "the spec has operations")
    if FAILED:
        sys.exit(1)
    print("test_openapi_yaml: %d operations, %d refs, valid" % (n_ops, len(set(found))))


main()
