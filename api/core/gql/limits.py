"""Query protection: depth, tokens, aliases, batching off, static cost with per-caller budgets."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    value_from_ast_untyped,
)
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.query_depth_limiter import IgnoreContext
from strawberry.schema.schema import _run_validation

from api.config import Settings

MUTATION_COST = 10
DEFAULT_LIST_SIZE = 100  # a connection without first/last is refused anyway; cost assumes the max


def _ignore_introspection(ctx: IgnoreContext) -> bool:
    # GraphiQL's introspection query nests ofType seven levels deep; it is bounded by the schema.
    return ctx.field_name.startswith("__")


def _unwrap(t: Any) -> Any:
    while isinstance(t, (GraphQLNonNull, GraphQLList)):
        t = t.of_type
    return t


def _declared_cost(field_def: Any) -> int | None:
    # Weights are declared next to the fields: strawberry.field(metadata={"cost": N}).
    definition = (field_def.extensions or {}).get("strawberry-definition")
    metadata = getattr(definition, "metadata", None) or {}
    cost = metadata.get("cost")
    return int(cost) if cost is not None else None


class CostCalculator:
    """Static cost of a document: objects 1, connections × first/last, mutations 10."""

    def __init__(self, schema: GraphQLSchema, document: Any, variables: dict[str, Any] | None) -> None:
        self.schema = schema
        self.variables = variables or {}
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.document = document

    def operation_cost(self, operation: OperationDefinitionNode) -> int:
        """The cost of one operation."""
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        is_mutation = operation.operation == OperationType.MUTATION
        return self._selection_cost(operation.selection_set, root, 1, is_mutation, set())

    def _arg(self, node: FieldNode, name: str) -> Any:
        for arg in node.arguments or ():
            if arg.name.value == name:
                return value_from_ast_untyped(arg.value, self.variables)
        return None

    def _selection_cost(
        self, selection_set: SelectionSetNode | None, parent: Any, multiplier: int, root_mutation: bool,
        seen: set[str],
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field_cost(selection, parent, multiplier, root_mutation, seen)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self.schema.get_type(selection.type_condition.name.value) or parent
                total += self._selection_cost(selection.selection_set, target, multiplier, root_mutation, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value) or parent
                total += self._selection_cost(
                    fragment.selection_set, target, multiplier, root_mutation, seen | {name}
                )
        return total

    def _field_cost(self, node: FieldNode, parent: Any, multiplier: int, root_mutation: bool, seen: set[str]) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0
        if not isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            return 0
        field_def = parent.fields.get(name)
        if field_def is None:
            return 0
        returns = _unwrap(field_def.type)
        is_object = isinstance(returns, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType))
        weight = _declared_cost(field_def)
        if weight is None:
            weight = MUTATION_COST if root_mutation else (1 if is_object else 0)
        cost = weight * multiplier
        if not is_object:
            return cost
        child_multiplier = multiplier
        if returns.name.endswith("Connection"):
            size = self._arg(node, "first") or self._arg(node, "last") or DEFAULT_LIST_SIZE
            try:
                child_multiplier = multiplier * max(1, int(size))
            except (TypeError, ValueError):
                child_multiplier = multiplier * DEFAULT_LIST_SIZE
        elif name == "nodes":
            ids = self._arg(node, "ids")
            child_multiplier = multiplier * max(1, len(ids) if isinstance(ids, list) else 1)
        return cost + self._selection_cost(node.selection_set, returns, child_multiplier, False, seen)


def count_returned_objects(data: Any) -> int:
    """The actual cost of a result: the objects it holds (used to refund the static estimate)."""
    if isinstance(data, dict):
        return 1 + sum(count_returned_objects(v) for v in data.values())
    if isinstance(data, list):
        return sum(count_returned_objects(v) for v in data)
    return 0


_PRICES: OrderedDict[tuple[Any, ...], int] = OrderedDict()  # (schema, query, operation, variables) -> cost
_PRICES_KEPT = 2048


class QueryGuard(SchemaExtension):
    """Validates early, refuses introspection to anonymous callers where configured, prices the query
    and charges the caller's budget before anything executes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cost: int | None = None
        self._budget: Any = None

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        context = ec.context
        document = ec.graphql_document
        if document is not None:
            # Standard validation first (with the depth/alias rules; a no-op when ValidationCache has already
            # answered): cost is priced only on valid queries.
            _run_validation(ec)
            if not ec.pre_execution_errors:
                ec.pre_execution_errors = self._check(document, context) or []
        yield

    def _check(self, document: Any, context: Any) -> list[GraphQLError]:
        principal = getattr(context, "principal", None)
        anonymous = principal is None or principal.is_anonymous
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if anonymous and not self.settings.introspection_for_anonymous and _uses_introspection(document):
            return [GraphQLError("Introspection is not available to anonymous callers.",
                                 extensions={"code": "INTROSPECTION_DISABLED"})]
        cost = self._price(document, operations)
        self._cost = cost
        if context is not None and hasattr(context, "cost"):
            context.cost = cost
        limit = self.settings.max_query_cost
        if cost > limit:
            return [GraphQLError(
                f"Query cost {cost} exceeds the maximum of {limit}; ask for fewer items (first/last) "
                "or fewer nested lists.",
                extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maximumCost": limit},
            )]
        state = getattr(context, "state", None)
        if state is not None and principal is not None:
            budget = state.budget.charge(principal.budget_key, cost)
            self._budget = budget
            _set_rate_headers(context, budget)
            if not budget.allowed:
                wait = max(0.0, (cost - budget.remaining) / state.budget.refill)
                return [GraphQLError(
                    f"Rate limit: this query costs {cost} points and {budget.remaining} remain; "
                    f"retry in {wait:.0f} s.",
                    extensions={"code": "RATE_LIMITED", "cost": cost, "remaining": budget.remaining,
                                "retryAfterSeconds": round(wait, 1)},
                )]
        return []

    def _price(self, document: Any, operations: list[OperationDefinitionNode]) -> int:
        """The static cost of the selected operation; remembered per query text and variables, since the same
        few queries come again and again (pricing walks the whole document)."""
        ec = self.execution_context
        try:
            key: tuple[Any, ...] | None = (id(ec.schema), ec.query, ec.operation_name,
                                           orjson.dumps(ec.variables or {}, option=orjson.OPT_SORT_KEYS))
        except TypeError:
            key = None  # e.g. an upload among the variables
        if key is not None and (known := _PRICES.get(key)) is not None:
            _PRICES.move_to_end(key)
            return known
        calculator = CostCalculator(ec.schema._schema, document, ec.variables)
        selected = [o for o in operations if ec.operation_name in (None, getattr(o.name, "value", None))]
        cost = sum(calculator.operation_cost(o) for o in selected[:1])
        if key is not None:
            _PRICES[key] = cost
            if len(_PRICES) > _PRICES_KEPT:
                _PRICES.popitem(last=False)
        return cost

    def on_operation(self) -> Iterator[None]:
        yield
        # Refund the difference between the static estimate and what was actually returned.
        context = self.execution_context.context
        state = getattr(context, "state", None)
        result = self.execution_context.result
        if self._budget is None or not self._budget.allowed or state is None or result is None:
            return
        data = getattr(result, "data", None) or {}
        actual = sum(count_returned_objects(v) for v in data.values())  # the root is not an object
        if self.execution_context.operation_type.value == OperationType.MUTATION.value:  # strawberry has its own enum
            actual = max(actual, MUTATION_COST)
        state.budget.refund(context.principal.budget_key, (self._cost or 0) - actual)
        self._actual = actual

    def get_results(self) -> dict[str, Any]:
        if self._cost is None:
            return {}
        out: dict[str, Any] = {"requestedQueryCost": self._cost, "maximumAvailable": self.settings.max_query_cost}
        if getattr(self, "_actual", None) is not None:
            out["actualQueryCost"] = self._actual
        if self._budget is not None:
            out["throttleStatus"] = {
                "remaining": self._budget.remaining,
                "limit": self._budget.limit,
                "resetAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._budget.reset_at)),
            }
        return {"cost": out}


def _uses_introspection(document: Any) -> bool:
    stack = list(document.definitions)
    while stack:
        node = stack.pop()
        if isinstance(node, FieldNode) and node.name.value in ("__schema", "__type"):
            return True
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)
    return False


def _set_rate_headers(context: Any, budget: Any) -> None:
    response = getattr(context, "response", None)
    headers = getattr(response, "headers", None)
    # Over graphql-transport-ws the "response" is the WebSocket, whose headers are the handshake's (read-only).
    if headers is None or not hasattr(headers, "__setitem__"):
        return
    headers["X-RateLimit-Limit"] = str(budget.limit)
    headers["X-RateLimit-Remaining"] = str(budget.remaining)
    headers["X-RateLimit-Cost"] = str(budget.cost)
    headers["X-RateLimit-Reset"] = str(int(budget.reset_at))


def protection_extensions(settings: Settings) -> list[Any]:
    """The schema extensions that protect the API, in the order they must run."""
    # The depth and alias rules are built once: graphql-core instantiates rule classes per validation, and
    # stable classes let ValidationCache recognise a document it has already validated (validation was
    # the largest share of a small request: see docs/benchmarks.md, API foundation).
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth, should_ignore=_ignore_introspection).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_query_aliases).validation_rules,
    ]
    # Factories, not instances: strawberry builds them per request so no state leaks between requests.
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
        lambda: ParserCache(maxsize=256),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=256),
        lambda: QueryGuard(settings),
    ]
