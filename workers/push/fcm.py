"""PushSender for Firebase Cloud Messaging, through the official firebase-admin SDK (7.x)."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import firebase_admin
import google.auth.exceptions
import google.auth.transport.requests
import requests
import requests.adapters
import requests.utils
from firebase_admin import credentials, exceptions, messaging
from urllib3.util.retry import Retry

from workers.push.sender import Outcome, PushMessage, SendResult

logger = logging.getLogger(__name__)

GOOGLE_FCM_URL = "https://fcm.googleapis.com/v1/projects/{0}/messages:send"
_BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
_FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"

# Worth another try later; everything not listed and not a token problem is FATAL.
_RETRYABLE = (
    messaging.QuotaExceededError,
    exceptions.ResourceExhaustedError,
    exceptions.UnavailableError,
    exceptions.InternalError,
    exceptions.DeadlineExceededError,
    exceptions.UnknownError,  # e.g. a 502 from a proxy, or a dropped connection mid-response
    exceptions.AbortedError,
    exceptions.CancelledError,
)

# firebase-admin's own adapter retries 500/503 up to 4 times with back-off, and urllib3 sleeps out any
# Retry-After inside the call. We replace it: the outbox owns retries (it records attempts and parks
# a message after a limit), and one failing request must not hold a 500-message chunk for seconds. A
# refused connection is still retried once: the request never left, so no duplicate is possible.
_TRANSPORT_RETRY = Retry(total=None, connect=1, read=0, status=0, other=0, redirect=0, raise_on_status=False)


class FcmSender:
    """Sends PushMessages with firebase-admin's `messaging.send_each`, at most 500 per call."""

    max_batch = 500  # send_each's limit; it opens one thread (and one HTTP request) per message

    def __init__(
        self,
        service_account: str | os.PathLike[str] | Mapping[str, Any],
        *,
        fcm_url: str | None = None,
        timeout: float = 30.0,
        pool_size: int = max_batch,
    ) -> None:
        """Builds a sender from a service-account file or dict; `fcm_url` points it at a fake."""
        source = dict(service_account) if isinstance(service_account, Mapping) else os.fspath(service_account)
        certificate = credentials.Certificate(source)
        # A unique app name per sender: firebase-admin keeps apps in a process-wide registry, and
        # each app gets its own messaging service (and so its own URL and connection pool).
        self._app = firebase_admin.initialize_app(
            certificate, options={"httpTimeout": timeout}, name=f"push-sender-{uuid.uuid4().hex}"
        )
        self._credential = certificate.get_credential()
        self._refresh_lock = threading.Lock()
        self._closed = False
        try:
            url_template = _url_template(fcm_url) if fcm_url else None
            service = _point_fcm_at(self._app, url_template)
            self._session = _tune_session(service, url_template or GOOGLE_FCM_URL, pool_size)
        except Exception:
            firebase_admin.delete_app(self._app)
            raise

    def send(self, messages: Sequence[PushMessage]) -> list[SendResult]:
        """Sends the messages, in chunks of at most 500; one result per message, in order."""
        results: list[SendResult] = []
        for start in range(0, len(messages), self.max_batch):
            results.extend(self._send_chunk(messages[start : start + self.max_batch]))
        return results

    def close(self) -> None:
        """Releases the firebase-admin app and its connections."""
        if self._closed:
            return
        self._closed = True
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            firebase_admin.delete_app(self._app)
        else:
            # delete_app closes messaging's async client with asyncio.run(), which refuses to run
            # inside an event loop; an async worker closing its sender would crash without this.
            closer = threading.Thread(target=firebase_admin.delete_app, args=(self._app,))
            closer.start()
            closer.join()
        # delete_app leaves the requests session (and its 500 pooled sockets) open.
        self._session.close()

    def __enter__(self) -> FcmSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _send_chunk(self, chunk: Sequence[PushMessage]) -> list[SendResult]:
        results: dict[int, SendResult] = {}
        pending: list[int] = []
        for index, message in enumerate(chunk):
            if message.token.strip():
                pending.append(index)
            else:
                results[index] = SendResult(message.key, Outcome.TOKEN_INVALID, error_code="EMPTY_TOKEN")
        if pending:
            failure = self._refresh_access_token()
            if failure is not None:
                outcome, code, detail = failure
                results.update(
                    {i: SendResult(chunk[i].key, outcome, error_code=code, detail=detail) for i in pending}
                )
            else:
                fcm_messages = [_to_fcm_message(chunk[i]) for i in pending]
                self._send_each(chunk, pending, fcm_messages, results)
        ordered = [results[i] for i in range(len(chunk))]
        fatal = [r for r in ordered if r.outcome is Outcome.FATAL]
        if fatal:
            # Configuration errors (sender-ID mismatch, APNs auth) need a person: one line per chunk.
            logger.error(
                "FCM refused %d of %d messages for good, e.g. key=%s %s: %s",
                len(fatal),
                len(ordered),
                fatal[0].key,
                fatal[0].error_code,
                fatal[0].detail,
            )
        return ordered

    def _refresh_access_token(self) -> tuple[Outcome, str, str] | None:
        # Without this, the first chunk (and every chunk after the hourly expiry) has all 500 of
        # send_each's threads see an expired token and each fetch and sign its own: 500 token requests.
        if self._credential.valid:
            return None
        with self._refresh_lock:
            if self._credential.valid:
                return None
            try:
                self._credential.refresh(google.auth.transport.requests.Request())
            except google.auth.exceptions.RefreshError as error:
                # A rejected key or account is configuration; a token endpoint hiccup is not.
                outcome = Outcome.RETRY if error.retryable else Outcome.FATAL
                return outcome, "TOKEN_REFRESH_FAILED", str(error)
            except google.auth.exceptions.TransportError as error:
                return Outcome.RETRY, "TOKEN_REFRESH_FAILED", str(error)
        return None

    def _send_each(
        self,
        chunk: Sequence[PushMessage],
        indices: list[int],
        fcm_messages: list[messaging.Message],
        results: dict[int, SendResult],
    ) -> None:
        try:
            batch = messaging.send_each(fcm_messages, app=self._app)
        except ValueError as error:
            # send_each encodes every message before it sends any, so a ValueError means nothing went
            # out. Find the culprit by halving rather than failing (or serialising) the whole chunk.
            if len(fcm_messages) == 1:
                key = chunk[indices[0]].key
                results[indices[0]] = SendResult(
                    key, Outcome.FATAL, error_code="INVALID_MESSAGE", detail=str(error)
                )
                return
            half = len(fcm_messages) // 2
            self._send_each(chunk, indices[:half], fcm_messages[:half], results)
            self._send_each(chunk, indices[half:], fcm_messages[half:], results)
            return
        except exceptions.FirebaseError as error:
            # send_each wraps anything its thread pool raised (e.g. no thread could be started).
            cause = error.cause
            if isinstance(cause, google.auth.exceptions.RefreshError) and not cause.retryable:
                outcome = Outcome.FATAL
            else:
                outcome = Outcome.RETRY
            for i in indices:
                results[i] = SendResult(chunk[i].key, outcome, error_code=error.code, detail=str(error))
            return
        for i, response in zip(indices, batch.responses, strict=True):
            if response.success:
                results[i] = SendResult(chunk[i].key, Outcome.SENT, provider_message_id=response.message_id)
            else:
                results[i] = _failed(chunk[i].key, response.exception)


def _to_fcm_message(message: PushMessage) -> messaging.Message:
    """Builds the firebase-admin Message for one PushMessage."""
    apns_headers = {"apns-priority": "10" if message.priority == "high" else "5"}
    if message.collapse_key:
        apns_headers["apns-collapse-id"] = message.collapse_key
    if message.ttl_seconds is not None:
        # APNs wants an absolute expiry; 0 means "deliver now or never", like FCM's ttl of 0.
        expires = int(time.time()) + message.ttl_seconds if message.ttl_seconds > 0 else 0
        apns_headers["apns-expiration"] = str(expires)
    notification = None
    if message.title or message.body:
        # No title and no body makes a data-only message: the app refreshes quietly, nothing shown.
        notification = messaging.Notification(title=message.title, body=message.body)
    android_notification = (
        messaging.AndroidNotification(channel_id=message.android_channel) if message.android_channel else None
    )
    # firebase-admin 7.7 deprecates `token` for `fid` (Firebase installation ID) with a DeprecationWarning.
    # Our apps register FCM registration tokens, which FCM v1 still accepts; moving to FIDs is a change
    # to the mobile apps' registration first.
    return messaging.Message(
        token=message.token,
        notification=notification,
        data=dict(message.data) or None,
        android=messaging.AndroidConfig(
            collapse_key=message.collapse_key,
            priority=message.priority,
            ttl=message.ttl_seconds,
            notification=android_notification,
        ),
        apns=messaging.APNSConfig(headers=apns_headers),
    )


def _failed(key: str, error: exceptions.FirebaseError) -> SendResult:
    """Maps one failed send to a SendResult."""
    body = _error_body(error)
    fcm_code = next(
        (d.get("errorCode") for d in body.get("details", []) if d.get("@type") == _FCM_ERROR_TYPE), None
    )
    code = fcm_code or error.code
    if isinstance(error, messaging.UnregisteredError):
        outcome = Outcome.TOKEN_INVALID
    elif isinstance(error, exceptions.InvalidArgumentError):
        # FCM says INVALID_ARGUMENT both for a malformed token and for a bad field in our payload.
        # Deactivating tokens over our own payload bug would silently unsubscribe every user.
        outcome = Outcome.FATAL if _blames_payload(body) else Outcome.TOKEN_INVALID
    elif isinstance(error, messaging.SenderIdMismatchError | messaging.ThirdPartyAuthError):
        outcome = Outcome.FATAL
    elif isinstance(error, _RETRYABLE):
        return SendResult(
            key, Outcome.RETRY, retry_after=_retry_after(error), error_code=code, detail=str(error)
        )
    else:
        outcome = Outcome.FATAL  # permission, authentication, not-found without UNREGISTERED, ...
    return SendResult(key, outcome, error_code=code, detail=str(error))


def _error_body(error: exceptions.FirebaseError) -> dict[str, Any]:
    """Returns the `error` object of FCM's JSON answer, or {} when there was none."""
    response = error.http_response
    if response is None:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    inner = body.get("error") if isinstance(body, dict) else None
    return inner if isinstance(inner, dict) else {}


def _blames_payload(body: dict[str, Any]) -> bool:
    """Tells whether a 400's field violations name a field other than the token."""
    fields = [
        violation.get("field", "")
        for detail in body.get("details", [])
        if detail.get("@type") == _BAD_REQUEST_TYPE
        for violation in detail.get("fieldViolations", [])
    ]
    return any(f and f != "message.token" for f in fields)


def _retry_after(error: exceptions.FirebaseError) -> float | None:
    """Reads Retry-After (seconds or an HTTP date) from the error's HTTP response, if any."""
    response = error.http_response
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _url_template(fcm_url: str) -> str:
    """Turns a base URL (`http://127.0.0.1:8123`) or a full `{0}` template into a send-URL template."""
    if "{0}" in fcm_url:
        return fcm_url
    return fcm_url.rstrip("/") + "/v1/projects/{0}/messages:send"


# --- firebase-admin internals -----------------------------------------------------------------------
# Everything below touches private parts of firebase-admin (checked against 7.7.0). Each has a guard
# test in tests/workers/push/test_fcm.py that fails loudly if an upgrade moves it.

_FCM_URL_LOCK = threading.Lock()


def _point_fcm_at(app: firebase_admin.App, url_template: str | None) -> Any:
    """Creates `app`'s messaging service, sending to `url_template` (None: Google's FCM)."""
    if url_template is None:
        return messaging._get_messaging_service(app)
    # firebase-admin has no option for the send URL. `_MessagingService.__init__` formats the class
    # attribute FCM_URL with the project id into the instance once, and `_get_messaging_service(app)`
    # creates that instance on first use and caches it on the app. So: set the class attribute, create
    # this app's service, put the attribute back. The lock stops two senders being built at once from
    # seeing each other's URL; apps built outside this function only risk it within these few lines.
    service_class = messaging._MessagingService
    with _FCM_URL_LOCK:
        original = service_class.FCM_URL
        service_class.FCM_URL = url_template
        try:
            service = messaging._get_messaging_service(app)
        finally:
            service_class.FCM_URL = original
    expected = url_template.format(app.project_id)
    if getattr(service, "_fcm_url", None) != expected:
        # Fail here rather than let a test or the demo send to Google.
        raise RuntimeError(
            f"firebase-admin did not take the FCM URL override {expected!r}; see _point_fcm_at"
        )
    return service


def _tune_session(service: Any, url_template: str, pool_size: int) -> requests.Session:
    """Sizes the service's HTTP pool to send_each's thread count, drops its retries, reads env once."""
    session = service._client.session  # the requests.Session (google-auth AuthorizedSession) send_each uses
    parts = urlsplit(url_template)
    # send_each runs one thread per message (up to 500) through this one session. firebase-admin mounts
    # a 100-connection adapter for https://fcm.googleapis.com only (10 for any other host), so most of
    # those threads would open a connection, use it once and throw it away.
    adapter = requests.adapters.HTTPAdapter(
        pool_connections=4, pool_maxsize=pool_size, max_retries=_TRANSPORT_RETRY
    )
    session.mount(f"{parts.scheme}://{parts.netloc}", adapter)
    # With trust_env, requests re-reads proxy, no_proxy, CA-bundle and ~/.netrc settings from the
    # environment on every request: about a fifth of the client's CPU per message when profiled.
    # Read them once here instead (same precedence as requests), so a proxy configured for the worker
    # is still used; the environment is fixed for the life of a worker process anyway.
    url = url_template.format("p")
    session.proxies.update(requests.utils.get_environ_proxies(url, no_proxy=session.proxies.get("no_proxy")))
    if session.verify is True:
        session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.trust_env = False
    return session
