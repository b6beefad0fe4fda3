"""Mamori's REST API for analysts' scripts and jobs (standard library only).

    from mamori_client import Mamori
    m = Mamori("http://127.0.0.1:8080", token="mamori_…")        # or MAMORI_URL / MAMORI_TOKEN
    hits = m.search("event.action:ConsoleLogin and not source.ip:@office", tenants=["acme"], since="-7d")
    for ev in m.export("user.name:bob", tenants=["acme"], since="-30d"):   # every match, streamed
        ...
    m.ingest("acme", "app", [{"@timestamp": "...", "message": "..."}])
    for alert in m.alerts(status="new", level="high"):
        m.close_alert(alert["id"], "false_positive")

Every API error becomes a `MamoriError` with the API's `code`, `message` and (for filters) `column`.
"""

from .client import Mamori, MamoriError

__all__ = ["Mamori", "MamoriError"]
