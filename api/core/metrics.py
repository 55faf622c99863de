"""Prometheus metrics for requests and operations."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "smartcity_http_requests_total", "HTTP requests by route and status", ["route", "status"], registry=REGISTRY
)
HTTP_LATENCY = Histogram(
    "smartcity_http_request_seconds", "HTTP request latency by route", ["route"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
GRAPHQL_ERRORS = Counter(
    "smartcity_graphql_errors_total", "GraphQL errors by code", ["code"], registry=REGISTRY
)
BUS_EVENTS = Counter("smartcity_bus_events_total", "Events published after commit", ["channel"], registry=REGISTRY)


async def metrics_endpoint(request: Request) -> Response:
    """Serves the metrics in the Prometheus text format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
