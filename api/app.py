"""create_app(settings) -> Starlette: /graphql (HTTP + graphql-transport-ws), /healthz, /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.config import Settings, get_settings
from api.core.auth import ANONYMOUS
from api.core.budget import CostBudget, RedisCostBudget
from api.core.bus import make_bus
from api.core.errors import AccessDenied
from api.core.gql.cache import ResultCache
from api.core.gql.context import Context, pick_language
from api.core.logging import request_id_var
from api.core.metrics import HTTP_LATENCY, HTTP_REQUESTS, metrics_endpoint
from api.core.runtime import tune_gc
from api.core.state import AppState
from api.db import Database

log = logging.getLogger("api")


class SmartCityGraphQL(GraphQL):
    """The GraphQL endpoint: orjson responses, our context, authentication on HTTP and in connection_init."""

    def __init__(self, state: AppState, schema: Any) -> None:
        settings = state.settings
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=False,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            connection_init_wait_timeout=timedelta(seconds=10),
            multipart_uploads_enabled=True,
            allowed_origins=settings.allowed_origins,
            keep_alive=True,
            keep_alive_interval=15,
        )
        self.state = state
        # At most as many requests execute as the pool has connections, minus a few for workers and
        # /healthz: a request that waits here waits asynchronously, while one that waited for a pooled
        # connection would block the event loop that the connection holders need (a deadlock).
        self.gate = asyncio.Semaphore(max(1, state.db.capacity - 4))

    def encode_json(self, data: object) -> bytes:  # type: ignore[override]
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:  # type: ignore[override]
        request_id = request_id_var.get()
        context = Context(
            state=self.state,
            request=request,
            principal=ANONYMOUS,
            request_id=request_id,
            language=pick_language(request.headers.get("accept-language")),
            response=response,
        )
        request.scope.setdefault("state", {})["gql_context"] = context
        if isinstance(request, Request):
            # Authenticated before execution: a bad credential is a clear 401-style error, never anonymous.
            context.principal = self.state.authenticate(request.headers.get("authorization"), context.session)
            context.session.info["principal"] = context.principal
        return context

    async def on_ws_connect(self, context: Context) -> Any:  # type: ignore[override]
        # graphql-transport-ws authenticates in connection_init: {"authorization": "Bearer ..."}.
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        authorization = params.get("authorization") or params.get("Authorization")
        try:
            context.principal = self.state.authenticate(authorization, context.session)
        except AccessDenied as exc:
            # Closes the socket with 4403 and this payload: the client knows to sign in again.
            raise ConnectionRejectionError({"message": str(exc), "code": exc.code}) from None
        finally:
            context.close()
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if scope["type"] == "http":
                async with self.gate:
                    await super().__call__(scope, receive, send)
            else:
                await super().__call__(scope, receive, send)
        except AccessDenied as exc:
            if scope["type"] != "http":
                raise
            response = JSONResponse(
                {"errors": [{"message": str(exc), "extensions": {"code": exc.code, "requestId": request_id_var.get()}}]},
                status_code=401 if exc.code == "UNAUTHENTICATED" else 403,
            )
            await response(scope, receive, send)
        finally:
            context = scope.get("state", {}).get("gql_context")
            if context is not None and scope["type"] == "http":
                context.close()


class RequestMiddleware:
    """Request id, body-size cap, timing and metrics for every HTTP request."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        self.max_upload = settings.max_upload_bytes
        self.timeout = settings.request_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode()[:64] or uuid.uuid4().hex[:16]
        token = request_id_var.set(request_id)
        try:
            if scope["type"] == "websocket":
                await self.app(scope, receive, send)
                return
            await self._http(scope, receive, send, headers, request_id)
        finally:
            request_id_var.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes], rid: str) -> None:
        content_type = headers.get(b"content-type", b"").decode()
        # Uploads (multipart) get their own, larger cap: 5 photos at the per-file cap plus the form.
        limit = self.max_upload * 6 if content_type.startswith("multipart/") else self.max_body
        declared = headers.get(b"content-length")
        route = scope.get("path", "")
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, receive, send_wrapper, limit, rid)
        else:
            received = 0

            async def receive_capped() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise _BodyTooLarge
                return message

            try:
                await asyncio.wait_for(self.app(scope, receive_capped, send_wrapper), timeout=self.timeout)
            except _BodyTooLarge:
                await self._too_large(scope, receive, send_wrapper, limit, rid)
            except TimeoutError:
                log.error("request timed out after %.0f s", self.timeout, extra={"path": route})
                await JSONResponse(
                    {"errors": [{"message": "The request took too long.",
                                 "extensions": {"code": "TIMEOUT", "requestId": rid}}]},
                    status_code=503,
                )(scope, receive, send_wrapper)
        elapsed = time.perf_counter() - started
        label = route if route in ("/graphql", "/healthz", "/metrics") else "other"
        HTTP_REQUESTS.labels(label, str(status_holder["status"])).inc()
        HTTP_LATENCY.labels(label).observe(elapsed)

    @staticmethod
    async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int, rid: str) -> None:
        await JSONResponse(
            {"errors": [{"message": f"The request body is larger than {limit} bytes.",
                         "extensions": {"code": "PAYLOAD_TOO_LARGE", "requestId": rid}}]},
            status_code=413,
        )(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


def build_state(settings: Settings) -> AppState:
    """The process's shared services."""
    db = Database.from_settings(settings)
    return AppState(
        settings=settings,
        db=db,
        bus=make_bus(settings.redis_url),
        budget=make_budget(settings),
        result_cache=make_result_cache(settings),
    )


def make_result_cache(settings: Settings) -> ResultCache:
    """The process's cache of read-query answers, with what the domains declare cacheable."""
    from api.schema import DOMAINS

    fields: dict[str, tuple[str, ...]] = {}
    channels: dict[str, str] = {}
    for domain in DOMAINS:
        fields.update(domain.cached_fields)
        channels.update(domain.change_channels)
    return ResultCache(fields, channels, ttl_seconds=settings.result_cache_seconds,
                       max_entries=settings.result_cache_entries)


def make_budget(settings: Settings) -> CostBudget | RedisCostBudget:
    """Per-caller query-cost buckets: in Redis when it is configured (shared by every API process)."""
    if settings.redis_url:
        # Keyed by deployment (its database), so two platforms sharing a Redis never share a caller's bucket.
        deployment = hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]
        return RedisCostBudget(settings.redis_url, settings.default_cost_budget, settings.cost_refill_per_second,
                               prefix=f"smartcity:{deployment}:budget:")
    return CostBudget(settings.default_cost_budget, settings.cost_refill_per_second)


def create_app(settings: Settings | None = None, *, state: AppState | None = None) -> Starlette:
    """The ASGI application for the whole platform."""
    from api.schema import DOMAINS, build_schema

    settings = settings or (state.settings if state else get_settings())
    state = state or build_state(settings)
    for domain in DOMAINS:
        if domain.setup is not None:
            domain.setup(state)
    schema = build_schema(settings)
    graphql_app = SmartCityGraphQL(state, schema)

    async def healthz(request: Request) -> Response:
        try:
            await asyncio.to_thread(_ping, state)
        except Exception as exc:  # the probe reports, it never raises
            return JSONResponse({"status": "unavailable", "database": str(exc).splitlines()[0]}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "environment": settings.environment})

    routes: list[Any] = [
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_app),
        Route("/healthz", healthz),
        Route("/metrics", metrics_endpoint),
    ]
    for domain in DOMAINS:
        if domain.routes is not None:
            routes.extend(domain.routes(state))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await state.bus.start()
        if settings.gc_tuning:
            tune_gc()
        followers = [asyncio.create_task(domain.background(state)) for domain in DOMAINS
                     if domain.background is not None]
        if state.result_cache is not None and state.result_cache.enabled:
            followers.append(asyncio.create_task(state.result_cache.follow(state.bus)))
        scheduler = None
        if settings.worker_in_process:
            from workers.runner import start_in_process

            scheduler = start_in_process(state)
        try:
            yield
        finally:
            if scheduler is not None:
                from workers.runner import stop

                stop(scheduler)
            for follower in followers:
                follower.cancel()
            for follower in followers:
                with contextlib.suppress(asyncio.CancelledError):
                    await follower
            await state.bus.close()
            state.db.dispose()

    middleware = [Middleware(RequestMiddleware, settings=settings)]
    if settings.allowed_origins:
        middleware.append(Middleware(
            CORSMiddleware, allow_origins=settings.allowed_origins, allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "accept-language", "x-request-id"],
        ))
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.smartcity = state
    app.state.schema = schema
    return app


def _ping(state: AppState) -> None:
    with state.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
