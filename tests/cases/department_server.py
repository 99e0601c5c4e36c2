"""A department's business system for tests: a local HTTP server on 127.0.0.1 (random port) that
records every push and answers the statuses it is told to, and the organization's endpoint and
API client pointing at it. Tests never reach beyond this machine."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.accounts.oidc_support import issue_token, make_machine_client
from tongban.cases.models import DepartmentEndpoint
from tongban.core import crypto

SECRET = "dept-signing-secret-0123456789"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY")


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    def signature_is_valid(self, secret: str = SECRET) -> bool:
        """The check a department system makes (computed here independently of tasks.py)."""
        stamp = self.headers["X-Tongban-Timestamp"]
        expected = crypto.hmac_sm3(secret.encode(), stamp.encode() + b"." + self.body).hex()
        return self.headers["X-Tongban-Signature"] == f"sm3={expected}"


@dataclass
class FakeDepartment:
    """``answers``: the statuses of the next requests, in order; 200 once they are used up."""

    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/tongban/cases"

    def start(self) -> FakeDepartment:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                fake.received.append(Received(dict(self.headers.items()), body))
                status = fake.answers.pop(0) if fake.answers else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format, *args):  # silence the request log
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def connect(organization, url: str, *, scopes=("cases:read", "cases:handle")):
    """Register ``organization``'s business system: its push endpoint at ``url`` and an API
    client; returns (endpoint, bearer token)."""
    registered = make_machine_client(
        scopes=tuple(scopes), organization=organization, name=f"{organization.name}业务系统"
    )
    endpoint = DepartmentEndpoint.objects.create(
        organization=organization,
        url=url,
        secret=SECRET,
        client_id=registered.application.client_id,
    )
    return endpoint, issue_token(registered.application, scopes=tuple(scopes))
