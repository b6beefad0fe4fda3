"""The client: one class, one method per API operation an analyst scripts."""

from __future__ import annotations

import gzip
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Iterable, Iterator, Optional


class MamoriError(Exception):
    """An error answered by the API (or the transport), with its stable code."""

    def __init__(self, status: int, code: str, message: str, column: Optional[int] = None):
        super().__init__(f"{status} {code}: {message}" + (f" (column {column})" if column else ""))
        self.status = status
        self.code = code
        self.message = message
        self.column = column


class Mamori:
    """A connection to a Mamori server, authenticated with an API token."""

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, timeout: float = 60.0):
        self.url = (url or os.environ.get("MAMORI_URL") or "http://127.0.0.1:8080").rstrip("/")
        self.token = token or os.environ.get("MAMORI_TOKEN")
        if not self.token:
            raise ValueError("give a token (mamori token create …) or set MAMORI_TOKEN")
        self.timeout = timeout

    # -- transport ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Any = None, raw: Optional[bytes] = None,
                 content_type: str = "application/json", query: Optional[dict] = None):
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                err = json.loads(text)
                raise MamoriError(e.code, err.get("code", "error"), err.get("message", text), err.get("column")) from None
            except ValueError:
                raise MamoriError(e.code, "http_error", text) from None
        except urllib.error.URLError as e:
            raise MamoriError(0, "unreachable", f"{self.url}: {e.reason}") from None

    def _json(self, method: str, path: str, body: Any = None, query: Optional[dict] = None) -> Any:
        with self._request(method, path, body=body, query=query) as r:
            text = r.read()
            return json.loads(text) if text else None

    # -- events ------------------------------------------------------------------------------

    @staticmethod
    def _selection(query: str, tenants, since: str, until: str) -> dict:
        return {"query": query, "tenants": list(tenants or []), "from": since, "to": until}

    def search(self, query: str = "", tenants: Iterable[str] = (), since: str = "-24h", until: str = "now",
               limit: int = 100, offset: int = 0, oldest_first: bool = False) -> dict:
        """One page of events: `{"total", "hits": [...], "took_ms", "filter", "tenants"}`."""
        body = self._selection(query, tenants, since, until)
        body.update(limit=limit, offset=offset, order="oldest" if oldest_first else "newest")
        return self._json("POST", "/api/v1/search", body)

    def count(self, query: str = "", tenants: Iterable[str] = (), since: str = "-24h", until: str = "now") -> int:
        """How many events match."""
        return self.search(query, tenants, since, until, limit=0)["total"]

    def export(self, query: str = "", tenants: Iterable[str] = (), since: str = "-24h",
               until: str = "now") -> Iterator[dict]:
        """Every matching event, newest first, streamed (constant memory)."""
        body = self._selection(query, tenants, since, until)
        body["format"] = "ndjson"
        with self._request("POST", "/api/v1/export", body=body) as r:
            for line in r:
                if line.strip():
                    yield json.loads(line)

    def terms(self, field: str, query: str = "", tenants: Iterable[str] = (), since: str = "-24h",
              until: str = "now", size: int = 10) -> list:
        """Top values of a field: `[{"value", "count"}, ...]`."""
        body = self._selection(query, tenants, since, until)
        body["aggregations"] = [{"type": "terms", "field": field, "size": size}]
        return self._json("POST", "/api/v1/aggregate", body)["results"][0]["buckets"]

    def histogram(self, query: str = "", tenants: Iterable[str] = (), since: str = "-24h", until: str = "now",
                  interval_secs: Optional[int] = None) -> list:
        """Events per time bucket: `[{"start", "count"}, ...]`."""
        body = self._selection(query, tenants, since, until)
        body["aggregations"] = [{"type": "date_histogram", "interval_secs": interval_secs}]
        return self._json("POST", "/api/v1/aggregate", body)["results"][0]["buckets"]

    def facets(self, query: str = "", tenants: Iterable[str] = (), since: str = "-24h", until: str = "now",
               fields: Iterable[str] = (), top: int = 5, sample: int = 10_000) -> dict:
        """Fields of the matching events with their share and top values, over the newest `sample`:
        `{"total", "examined", "sampled", "fields": [{"field", "count", "share", "distinct", "top"}, ...]}`
        (a text field's `top_examined`, when present, is how many of the newest events its values come from)."""
        body = self._selection(query, tenants, since, until)
        body.update(fields=list(fields or []), top=top, sample=sample)
        return self._json("POST", "/api/v1/facets", body)

    def event(self, tenant: str, event_id: str) -> dict:
        """One event by its `event.id`, `event.original` included."""
        return self._json("GET", f"/api/v1/tenants/{tenant}/events/{urllib.parse.quote(event_id)}")

    def pivots(self, tenant: str, event_id: str, window_secs: int = 3600) -> list:
        """Same access key / IP / user … around an event, with counts and the filter to run."""
        return self._json("GET", f"/api/v1/tenants/{tenant}/events/{urllib.parse.quote(event_id)}/pivots",
                          query={"window": window_secs})

    def ingest(self, tenant: str, source: str, events: Iterable[Any], fmt: Optional[str] = None) -> dict:
        """Send events (dicts become NDJSON; strings are sent as lines); returns when they are durable."""
        lines = "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events)
        raw = gzip.compress(lines.encode())
        with self._request("POST", f"/api/v1/ingest/{tenant}/{source}", raw=raw,
                           content_type="application/x-ndjson", query={"format": fmt}) as r:
            return json.loads(r.read())

    # -- configuration -----------------------------------------------------------------------

    def tenants(self) -> list:
        """Tenants you may see."""
        return self._json("GET", "/api/v1/tenants")

    def context_list(self, tenant: str, name: str) -> dict:
        """A context list (`@name` in filters)."""
        return self._json("GET", f"/api/v1/tenants/{tenant}/context-lists/{name}")

    def set_context_list(self, tenant: str, name: str, entries: Iterable[str], description: Optional[str] = None) -> dict:
        """Create or replace a context list (audited)."""
        return self._json("PUT", f"/api/v1/tenants/{tenant}/context-lists/{name}",
                          {"entries": list(entries), "description": description})

    def sources(self, tenant: str, by: str = "labels.source", since: str = "-7d") -> dict:
        """Feed health (silent feeds flagged) and live counters."""
        return self._json("GET", f"/api/v1/tenants/{tenant}/sources", query={"by": by, "from": since})

    # -- alerts ------------------------------------------------------------------------------

    def alerts(self, tenants: Iterable[str] = (), status: Optional[str] = None, level: Optional[str] = None,
               rule: Optional[str] = None, since: str = "-30d", limit: int = 200) -> list:
        """The alert queue, most recently seen first."""
        return self._json("GET", "/api/v1/alerts", query={
            "tenants": ",".join(tenants) or None, "status": status, "level": level, "rule": rule,
            "from": since, "limit": limit})

    def update_alert(self, alert_id: int, status: Optional[str] = None, reason: Optional[str] = None,
                     assignee: Optional[str] = None) -> dict:
        """Acknowledge, assign or close (closing needs a reason)."""
        return self._json("PATCH", f"/api/v1/alerts/{alert_id}",
                          {"status": status, "reason": reason, "assignee": assignee})

    def close_alert(self, alert_id: int, reason: str) -> dict:
        """Close with `true_positive`, `benign`, `false_positive` or `duplicate`."""
        return self.update_alert(alert_id, status="closed", reason=reason)

    def propose_exclusion(self, tenants: Iterable[str], rules: Iterable[str], query: str, reason: str,
                          risk: str, expires_at: str) -> dict:
        """Propose an exclusion; it applies once another user approves it."""
        return self._json("POST", "/api/v1/exclusions", {
            "tenants": list(tenants), "rules": list(rules), "filter": query, "reason": reason,
            "risk": risk, "expires_at": expires_at})

    def approve_exclusion(self, exclusion_id: int) -> dict:
        """Approve someone else's exclusion."""
        return self._json("POST", f"/api/v1/exclusions/{exclusion_id}/approve", {})
