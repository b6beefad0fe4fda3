"""The Python client library (clients/python) against a real `mamori serve`."""

import subprocess
import sys
import tempfile
import os

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "clients", "python"))

from common import free_port, wait_ready  # noqa: E402
from mamori_client import Mamori, MamoriError  # noqa: E402


def main():
    binary = sys.argv[1]
    data = tempfile.mkdtemp(prefix="mamori-py-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, MAMORI_ADMIN_PASSWORD="admin-password")
    server = subprocess.Popen([binary, "--data-dir", data, "serve", "--listen", f"127.0.0.1:{port}"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(base)
        token = subprocess.check_output([binary, "--data-dir", data, "token", "create", "--user", "admin",
                                         "--name", "py"], stderr=subprocess.DEVNULL).decode().strip()
        m = Mamori(base, token)
        events = [{"@timestamp": f"2026-11-20T10:{i % 60:02d}:00Z", "message": f"login {i}",
                   "user": {"name": "bob" if i % 3 else "alice"}, "source": {"ip": f"10.0.0.{i % 7}"}}
                  for i in range(300)]
        out = m.ingest("acme", "app", events)
        assert out["accepted"] == 300, out
        rng = {"since": "2026-11-01T00:00:00Z", "until": "2026-12-01T00:00:00Z"}
        assert m.count("user.name:alice", ["acme"], **rng) == 100
        page = m.search("user.name:bob", ["acme"], limit=5, **rng)
        assert page["total"] == 200 and len(page["hits"]) == 5
        assert sum(1 for _ in m.export("", ["acme"], **rng)) == 300
        top = m.terms("user.name", "", ["acme"], **rng)
        assert top[0] == {"value": "bob", "count": 200}, top
        f = m.facets("", ["acme"], fields=["user.name", "source.ip"], top=2, **rng)
        assert (f["total"], f["examined"], f["sampled"]) == (300, 300, False), f
        user = next(x for x in f["fields"] if x["field"] == "user.name")
        assert user["share"] == 1.0 and user["top"][0] == {"value": "bob", "count": 200}, user
        sampled = m.facets("user.name:bob", ["acme"], sample=50, **rng)
        assert sampled["sampled"] and sampled["examined"] == 50, sampled
        assert any(x["field"] == "message" for x in sampled["fields"]), sampled
        first = page["hits"][0]
        assert m.event("acme", first["event"]["id"])["message"] == first["message"]
        m.set_context_list("acme", "office", ["10.0.0.0/30"], "HQ")
        assert m.count("not source.ip:@office", ["acme"], **rng) < 300
        try:
            m.search("user.name:(", ["acme"])
            raise AssertionError("a bad filter must raise")
        except MamoriError as e:
            assert e.code == "bad_filter" and e.column, e
        try:
            Mamori(base, "mamori_bad_token").tenants()
            raise AssertionError("a bad token must raise")
        except MamoriError as e:
            assert e.status == 401 and e.code == "unauthorized"
        print("python client: ingest, search, count, export, terms, facets, event, context list, errors")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
