"""Real receivers for the outbound tests: an SMTP server (aiosmtpd) and an HTTP receiver.

Imported by name (see conftest.py). Both run in threads on loopback ports.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy.orm import Session

from support import free_port


@dataclass
class Mailbox:
    """What the SMTP server received: one parsed message per DATA."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.default
        )
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[str, Mailbox]]:
    """A real SMTP server (aiosmtpd) on a loopback port; yields its URL and mailbox."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", box
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP receiver that answers POSTs with the scripted status codes (then 200)."""

    url: str
    script: list[int]
    requests: list[Received] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def http_receiver(script: list[int] | None = None, *, delay: float = 0.0) -> Iterator[Receiver]:
    """A real HTTP server (http.server, a thread per request) on a loopback port."""
    state = Receiver(url="", script=list(script or []), delay=delay)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.requests.append(Received(self.path, dict(self.headers.items()), body))
                code = state.script.pop(0) if state.script else 200
            if state.delay:
                time.sleep(state.delay)
            payload = b"ok" if code < 300 else b"receiver says no"
            self.send_response(code)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def make_participant(
    session: Session,
    *,
    tenant: str = "acme",
    email: str = "ann@example.com",
    language: str | None = None,
    campaign_language: str | None = None,
    campaign: str = "Spring",
) -> tuple[int, int, int]:
    """A tenant, campaign and participant in ``session`` (flushed): their ids."""
    from sqlalchemy import select

    from grapevine.store import tenants_repo
    from grapevine.store.models import Campaign, Participant, Person

    t = tenants_repo.get_or_create_tenant(session, slug=tenant)
    c = session.scalar(
        select(Campaign).where(Campaign.tenant_id == t.id, Campaign.name == campaign)
    )
    if c is None:
        rules = {"language": campaign_language} if campaign_language else {}
        c = Campaign(tenant_id=t.id, name=campaign, rules=rules, currency="EUR")
        session.add(c)
        session.flush()
    person = Person(platform="email", handle=f"{email}#{c.id}")
    session.add(person)
    session.flush()
    p = Participant(
        campaign_id=c.id, person_id=person.id, email=email, created_at=0.0, language=language
    )
    session.add(p)
    session.flush()
    return t.id, c.id, p.id
