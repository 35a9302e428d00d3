"""HTTP client of the internal ingest API (standard library only: the watcher stays light)."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request


class IngestApiError(Exception):
    """The API could not be reached or refused the request."""


class IngestClient:
    def __init__(self, base_url: str, token: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                     "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                message = exc.reason
            raise IngestApiError(f"{method} {path}: HTTP {exc.code}: {message}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise IngestApiError(f"{method} {path}: {exc}") from None

    def notify(self, event: str, paths: list[str]) -> dict:
        return self._request("POST", "/notifications", {"event": event, "paths": paths})

    def status(self, notification_id: int) -> dict:
        return self._request("GET", f"/notifications/{notification_id}")

    def stored_dirs(self) -> list[str]:
        """Every archive-relative directory that holds stored files."""
        return self._request("GET", "/dirs")["dirs"]

    def stored_files(self, directory: str) -> dict[str, tuple[int, float]]:
        """path -> (size, mtime) of the rows of one directory."""
        answer = self._request("GET", "/files?" + urllib.parse.urlencode({"dir": directory}))
        return {f["path"]: (f["size"], f["mtime"]) for f in answer["files"]}
