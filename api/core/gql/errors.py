"""Typed user errors in mutation payloads, and masking of unexpected errors with a request id."""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from api.core.errors import AccessDenied, DomainError, FieldError

log = logging.getLogger("api.errors")


@strawberry.interface(description="A problem with the input or the request, shown next to its field.")
class UserError:
    field: str | None = strawberry.field(description="The input field it concerns (camelCase path), if any.")
    message: str = strawberry.field(description="A sentence for the user, in the caller's language.")


_ERROR_TYPES: dict[str, type] = {}


def error_type(name: str, codes: type[enum.Enum]) -> type:
    """The `<Domain>Error` type: a UserError whose `code` is the domain's ErrorCode enum."""
    if name in _ERROR_TYPES:
        return _ERROR_TYPES[name]
    code_enum = strawberry.enum(codes, name=codes.__name__)
    cls = type(name, (UserError,), {"__annotations__": {"code": code_enum}})
    cls = strawberry.type(cls, description=f"A user error from the {name.removesuffix('Error')} domain.")
    _ERROR_TYPES[name] = cls
    return cls


def camel_path(field: str | None) -> str | None:
    """`roles.0.unit_code` -> `roles.0.unitCode`: field paths as the client sent them."""
    if field is None:
        return None
    parts = []
    for part in field.split("."):
        head, *rest = part.split("_")
        parts.append(head + "".join(w[:1].upper() + w[1:] for w in rest))
    return ".".join(parts)


def to_user_errors(error_cls: type, codes: type[enum.Enum], errors: list[FieldError], language: str) -> list[Any]:
    """Converts domain errors to the GraphQL error type, in the caller's language."""
    out = []
    for e in errors:
        try:
            code = codes(e.code)
        except ValueError:
            code = codes("INVALID")
        out.append(error_cls(field=camel_path(e.field), message=e.localised(language), code=code))
    return out


# Errors raised on purpose that keep their message at top level (not a bug, not in a payload).
EXPECTED = (DomainError, AccessDenied)


def log_unexpected(errors: list[GraphQLError], request_id: str) -> None:
    """Logs the errors that are bugs or outages, with their traceback; expected ones are not logged."""
    for error in errors:
        original = error.original_error
        if original is None or isinstance(original, (*EXPECTED, GraphQLError)):
            continue
        log.error(
            "unexpected error in %s", ".".join(str(p) for p in error.path or []) or "operation",
            exc_info=(type(original), original, original.__traceback__),
            extra={"request_id": request_id},
        )


class MaskUnexpectedErrors(SchemaExtension):
    """Keeps expected errors readable; masks everything else with the request id and logs the traceback."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not getattr(result, "errors", None):
            return
        result.errors = [self._process(e) for e in result.errors or []]

    def _process(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        context = self.execution_context.context
        request_id = getattr(context, "request_id", "-")
        language = getattr(context, "language", "en")
        if original is None:
            # Parser/validation errors and limits: the caller's own query, safe to show.
            return error
        if isinstance(original, AccessDenied):
            return GraphQLError(
                str(original), nodes=error.nodes, path=error.path,
                extensions={"code": original.code, "requestId": request_id},
            )
        if isinstance(original, DomainError):
            first = original.errors[0]
            return GraphQLError(
                first.localised(language), nodes=error.nodes, path=error.path,
                extensions={"code": first.code, "field": camel_path(first.field), "requestId": request_id},
            )
        if isinstance(original, GraphQLError):
            return error
        # Logged (with the traceback and this request id) by SmartCitySchema.process_errors.
        message = (
            f"Lỗi không mong muốn. Mã yêu cầu: {request_id}" if language == "vi"
            else f"Unexpected error. Request id: {request_id}"
        )
        return GraphQLError(
            message, nodes=error.nodes, path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )
