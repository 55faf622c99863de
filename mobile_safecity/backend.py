"""Everything the Safe City screens ask of the platform, without Kivy: called from worker threads.

The screens never talk HTTP themselves; they call these methods off the UI thread and get plain dicts
back. Reports do not go to the server from here at all: they go into the outbox, whose sender delivers
them with `deliver_report`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mobile_common.errors import AuthError, NetworkError
from mobile_common.graphql import GraphQLClient
from mobile_common.outbox import Delivered, Outbox, OutboxItem, OutboxSender, Rejected
from mobile_common.subscriptions import SubscriptionClient
from mobile_common.tokens import Tokens, TokenStore, parse_time
from mobile_safecity import operations as ops
from mobile_safecity.logic.validation import Registration, normalise_phone, parse_date

log = logging.getLogger("mobile_safecity")

DEFAULT_SERVER = "http://127.0.0.1:8000"
REPORT_KIND = "reportIncident"
# Worth another try later, unlike the other payload errors which need the person to change something.
TRANSIENT_CODES = {"RATE_LIMITED"}


@dataclass
class Preferences:
    """The person's choices, kept in `<data dir>/settings.json`."""

    language: str = "vi"
    server: str = DEFAULT_SERVER

    @classmethod
    def load(cls, path: Path, *, default_server: str) -> Preferences:
        """Reads the file, or the defaults."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        language = data.get("language") if data.get("language") in ("vi", "en") else "vi"
        return cls(language=language, server=data.get("server") or default_server)

    def save(self, path: Path) -> None:
        """Writes the file atomically."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"language": self.language, "server": self.server}), encoding="utf-8")
        os.replace(tmp, path)


class PayloadErrors(Exception):
    """A mutation answered with `errors`: the screen shows them next to their fields."""

    def __init__(self, errors: Sequence[dict[str, Any]]) -> None:
        super().__init__("; ".join(str(e.get("message")) for e in errors))
        self.errors = list(errors)


class SafeCityBackend:
    """Session, outbox and API calls of one app install (one data directory)."""

    def __init__(self, data_dir: Path, *, server: str | None = None,
                 on_outbox_change: Callable[[OutboxItem], None] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.prefs_path = self.data_dir / "settings.json"
        default = server or os.environ.get("SMARTCITY_APP_SERVER") or DEFAULT_SERVER
        self.prefs = Preferences.load(self.prefs_path, default_server=default)
        if server:  # an explicit address (tests, the nox session) wins over the saved one
            self.prefs.server = server
        self.tokens = TokenStore(self.data_dir / "tokens.json")
        self.client = GraphQLClient(self.prefs.server, tokens=self.tokens, language=self.prefs.language)
        self.outbox = Outbox(self.data_dir)
        self.sender = OutboxSender(self.outbox, self.deliver_report, on_change=on_outbox_change)

    # --- preferences ---------------------------------------------------------------------------------

    @property
    def language(self) -> str:
        """'vi' or 'en'."""
        return self.prefs.language

    def set_language(self, language: str) -> None:
        """Changes the language of the app and of the server's messages."""
        self.prefs.language = language
        self.client.language = language
        self.prefs.save(self.prefs_path)

    def set_server(self, server: str) -> None:
        """Points the app at another server (the session stays: it may be the same server renamed)."""
        self.prefs.server = server.strip().rstrip("/")
        old = self.client
        self.client = GraphQLClient(self.prefs.server, tokens=self.tokens, language=self.prefs.language)
        old.close()
        self.prefs.save(self.prefs_path)
        self.sender.kick()

    # --- session -------------------------------------------------------------------------------------

    @property
    def signed_in(self) -> bool:
        """Whether there is a session."""
        return self.tokens.signed_in

    @property
    def full_name(self) -> str:
        """The signed-in person's name."""
        tokens = self.tokens.tokens
        return str((tokens.account or {}).get("fullName", "")) if tokens else ""

    def sign_in(self, username: str, password: str) -> None:
        """Signs in; raises PayloadErrors with the server's reasons."""
        user = "".join(username.split())
        data = self.client.execute(ops.LOGIN, {"input": {"username": user, "password": password}}, auth=False)
        payload = data["login"]
        if payload["errors"]:
            raise PayloadErrors(payload["errors"])
        self.tokens.set(Tokens(access_token=payload["accessToken"], refresh_token=payload["refreshToken"],
                               expires_at=parse_time(payload["expiresAt"]) if payload.get("expiresAt") else None,
                               account=payload.get("account")))
        self.sender.resume()

    def register(self, form: Registration) -> dict[str, Any]:
        """Creates a citizen account; raises PayloadErrors with the server's reasons."""
        born = parse_date(form.date_of_birth)
        values: dict[str, Any] = {
            "nationalId": "".join(form.national_id.split()), "fullName": " ".join(form.full_name.split()),
            "dateOfBirth": born.isoformat() if born else form.date_of_birth, "sex": form.sex,
            "phone": normalise_phone(form.phone) or form.phone, "password": form.password,
        }
        if form.email.strip():
            values["email"] = form.email.strip()
        payload = self.client.execute(ops.REGISTER, {"input": values}, auth=False)["registerCitizen"]
        if payload["errors"]:
            raise PayloadErrors(payload["errors"])
        return dict(payload["account"])

    def sign_out(self) -> None:
        """Ends the session on the server (best effort) and here."""
        try:
            if self.signed_in:
                self.client.execute(ops.LOGOUT)
        except (NetworkError, AuthError):
            pass
        finally:
            self.tokens.clear()

    # --- reports -------------------------------------------------------------------------------------

    def file_report(self, *, category: str, description: str, location: tuple[float, float] | None,
                    address: str = "", photos: Sequence[Path] = ()) -> OutboxItem:
        """Writes the report to the outbox (photos copied) and wakes the sender; returns the stored item."""
        values: dict[str, Any] = {"category": category, "description": description.strip(),
                                  "location": {"lat": location[0], "lng": location[1]} if location else None}
        if address.strip():
            values["address"] = address.strip()
        item = self.outbox.add(REPORT_KIND, {"input": values}, photos)
        self.sender.kick()
        return item

    def deliver_report(self, item: OutboxItem) -> Delivered | Rejected:
        """Sends one outbox item as `reportIncident`, photos as multipart uploads, with its idempotency key."""
        variables = json.loads(json.dumps(item.variables))
        uploads = {f"variables.input.photos.{i}": path for i, path in enumerate(item.photos) if path.exists()}
        if uploads:
            variables["input"]["photos"] = [None] * len(uploads)
        payload = self.client.execute(ops.REPORT_INCIDENT, variables, uploads=uploads or None)["reportIncident"]
        errors = payload["errors"]
        if errors and any(e.get("code") in TRANSIENT_CODES for e in errors):
            raise NetworkError(errors[0].get("message", "rate limited"))
        if errors and any(e.get("code") == "PERMISSION_DENIED" and not e.get("field") for e in errors):
            raise AuthError(errors[0].get("message", ""))
        if errors or not payload.get("incident"):
            return Rejected(errors)
        return Delivered(payload["incident"]["id"])

    def my_incidents(self, first: int = 50) -> list[dict[str, Any]]:
        """The incidents I reported, newest first."""
        nodes = self.client.execute(ops.MY_INCIDENTS, {"first": first})["myIncidents"]["nodes"]
        return sorted(nodes, key=lambda n: n.get("reportedAt") or "", reverse=True)

    def incident(self, incident_id: str) -> dict[str, Any] | None:
        """One of my incidents with its timeline."""
        return self.client.execute(ops.INCIDENT, {"id": incident_id})["incident"]

    def rate(self, incident_id: str, rating: int, comment: str) -> dict[str, Any]:
        """Rates a closed incident; raises PayloadErrors."""
        values: dict[str, Any] = {"id": incident_id, "rating": rating}
        if comment.strip():
            values["comment"] = comment.strip()
        payload = self.client.execute(ops.RATE_INCIDENT, {"input": values})["rateIncident"]
        if payload["errors"]:
            raise PayloadErrors(payload["errors"])
        return dict(payload["incident"])

    def alerts(self, first: int = 5) -> list[dict[str, Any]]:
        """Recent incidents in the area as anyone may see them (no personal data)."""
        return list(self.client.execute(ops.PUBLIC_INCIDENTS, {"first": first})["publicIncidents"]["nodes"])

    def register_push(self, token: str, platform: str = "ANDROID") -> None:
        """Registers this install's FCM token so updates arrive while the app is closed."""
        values = {"token": token, "platform": platform, "language": self.language.upper()}
        payload = self.client.execute(ops.REGISTER_DEVICE, {"input": values})["registerDevice"]
        if payload["errors"]:
            raise PayloadErrors(payload["errors"])

    def updates(self, on_event: Callable[[dict[str, Any]], None],
                on_status: Callable[[str], None] | None = None) -> SubscriptionClient:
        """A (not yet started) `myIncidentUpdates` subscription; events are the IncidentEvent dicts."""

        return SubscriptionClient(self.prefs.server, ops.MY_INCIDENT_UPDATES, token=self.client.access_token,
                                  on_event=lambda data: on_event(data["myIncidentUpdates"]),
                                  on_status=on_status, on_auth_failure=self.client.refresh_session,
                                  language=self.language)

    def close(self) -> None:
        """Stops the sender and closes connections (pending items stay on disk)."""
        self.sender.stop()
        self.client.close()
