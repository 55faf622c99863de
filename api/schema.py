"""The one schema: every domain's Query, Mutation and Subscription merged, with the protections on."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from api.cameras.plugin import plugin as cameras
from api.config import Settings
from api.core.gql.cache import ResultCacheExtension
from api.core.gql.errors import MaskUnexpectedErrors, log_unexpected
from api.core.gql.limits import protection_extensions
from api.core.gql.personal import AuditFlush
from api.core.gql.root import CoreQuery
from api.core.plugin import DomainPlugin
from api.identity.plugin import plugin as identity
from api.incidents.plugin import plugin as incidents
from api.notifications.plugin import plugin as notifications
from api.ops.plugin import plugin as ops

# Every domain plugs in here, once: its GraphQL roots, demo seed, worker jobs and start-up hook.
DOMAINS: list[DomainPlugin] = [identity, notifications, incidents, cameras, ops]


class SmartCitySchema(strawberry.Schema):
    """Logs only unexpected errors (with request id and traceback): a refused permission or a user's
    mistake is an answer, not an incident for the operators."""

    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        context = getattr(execution_context, "context", None)
        log_unexpected(errors, getattr(context, "request_id", "-"))


def build_schema(settings: Settings) -> strawberry.Schema:
    """Merges the domains' roots into one schema with the configured limits (built once per limits)."""
    key = (settings.max_query_tokens, settings.max_query_depth, settings.max_query_aliases,
           settings.max_query_cost, settings.introspection_for_anonymous, settings.environment)
    if key not in _SCHEMAS:
        _SCHEMAS[key] = _build(settings)
    return _SCHEMAS[key]


_SCHEMAS: dict[tuple[object, ...], strawberry.Schema] = {}


def _build(settings: Settings) -> strawberry.Schema:
    queries = [CoreQuery, *(d.query for d in DOMAINS if d.query)]
    mutations = [d.mutation for d in DOMAINS if d.mutation]
    subscriptions = [d.subscription for d in DOMAINS if d.subscription]
    kwargs: dict[str, Any] = {}
    if mutations:
        kwargs["mutation"] = merge_types("Mutation", tuple(mutations))
    if subscriptions:
        kwargs["subscription"] = merge_types("Subscription", tuple(subscriptions))
    types = [t for d in DOMAINS for t in d.types]
    return SmartCitySchema(
        query=merge_types("Query", tuple(queries)),
        types=types,
        extensions=[*protection_extensions(settings), ResultCacheExtension, AuditFlush, MaskUnexpectedErrors],
        config=StrawberryConfig(
            disable_field_suggestions=settings.environment == "production",
            relay_max_results=100,
        ),
        **kwargs,
    )
