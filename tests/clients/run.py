"""Real third-party clients against a real `mamori serve`:

* the OpenAPI document validates (openapi-spec-validator);
* the OpenSearch Python client's bulk helper ingests through `_bulk`;
* the Elasticsearch bulk answer shape is what the client expects.

Run by scripts/test through scripts/client-tests (which makes the venv).
"""

import json
import os
import subprocess
import sys
import tempfile
import urllib.request

from common import free_port, wait_ready

from openapi_spec_validator import validate
from opensearchpy import OpenSearch, helpers



def call(base, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


def main():
    binary = sys.argv[1]
    data = tempfile.mkdtemp(prefix="mamori-clients-")
    port = free_port()
    env = dict(os.environ, MAMORI_ADMIN_PASSWORD="admin-password")
    server = subprocess.Popen(
        [binary, "--data-dir", data, "serve", "--listen", f"127.0.0.1:{port}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base)
        token = subprocess.check_output(
            [binary, "--data-dir", data, "token", "create", "--user", "admin", "--name", "clients"],
            stderr=subprocess.DEVNULL).decode().strip()

        with urllib.request.urlopen(base + "/api/v1/openapi.json") as r:
            doc = json.loads(r.read())
        validate(doc)
        print(f"openapi: valid OpenAPI {doc['openapi']} document with {len(doc['paths'])} paths")

        call(base, token, "POST", "/api/v1/tenants", {"name": "acme"})
        client = OpenSearch(hosts=[base], http_auth=("shipper", token), timeout=30)
        docs = [{"_index": "acme-web", "_source": {
            "@timestamp": "2026-11-23T10:00:00Z", "message": f"GET /item/{i} 200",
            "url": {"path": f"/item/{i}"}, "http": {"response": {"status_code": 200}}}} for i in range(500)]
        ok, errors = helpers.bulk(client, docs, chunk_size=100, raise_on_error=False)
        assert ok == 500 and not errors, (ok, errors[:2])
        ok, errors = helpers.bulk(client, [{"_index": "nosuch-web", "_source": {"message": "x"}}],
                                  raise_on_error=False)
        assert ok == 0 and len(errors) == 1, (ok, errors[:2])
        found = call(base, token, "POST", "/api/v1/search", {
            "tenants": ["acme"], "query": "labels.source:web and http.response.status_code:200",
            "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "limit": 1})
        assert found["total"] == 500, found["total"]
        print("opensearch-py bulk helper: 500 documents stored as acme/web; unknown index refused per item")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
