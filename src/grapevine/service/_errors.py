"""One shape for every error answer of the JSON API (every 4xx, and the 5xx it gives on
purpose: 503 while unconfigured, a store error), declared for every 4xx in the OpenAPI
schema as ``ErrorBody``::

    {"error": "BadInput", "detail": "The 'time' field must be ... Got ... instead.",
     "field": "time", "errors": [{"field": "time", "message": "...", "type": "domain"}]}

``error`` names the kind (a :class:`grapevine.errors.GrapevineError` subclass, or for the
HTTP layer's own answers ``NotFound``, ``Unauthorized``, ``Forbidden``, ``Conflict``,
``RateLimited``, ``ContentTooLarge``...); ``detail`` says what is wrong in one sentence;
``field`` names the first field at fault (dotted for nested ones: ``offer.referrer``;
``body`` for the whole body); ``errors`` lists every field at fault (a 422 of the schema);
``reason`` is what failed in a signature check (400 ``InvalidSignature``).

An exception that no handler answers (a bug) is answered by :class:`UnhandledErrors`: a 500
``InternalServerError`` in the same shape, with the security headers, its traceback logged
on ``grapevine.service``; the client learns nothing about the failure.
"""

from __future__ import annotations

import itertools
import json
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grapevine.errors import (
    BadInput,
    Conflict,
    GrapevineError,
    InvalidParameter,
    InvalidSignature,
    NotFound,
    UnknownPerson,
)

__all__ = [
    "UNHANDLED_DETAIL",
    "ErrorBody",
    "FieldError",
    "UnhandledErrors",
    "error_body",
    "error_name",
    "install_error_handlers",
]

_log = logging.getLogger("grapevine.service")


class FieldError(BaseModel):
    """One field at fault."""

    field: str = Field(description="Dotted path of the field (body for the whole body).")
    message: str
    type: str = Field(description="What kind of check failed: missing, domain, text...")


class ErrorBody(BaseModel):
    """Every error answer of the API."""

    error: str = Field(description="The kind of error: BadInput, NotFound, Unauthorized...")
    detail: str = Field(description="What is wrong, in one sentence.")
    field: str | None = Field(default=None, description="The (first) field at fault.")
    reason: str | None = Field(default=None, description="Why a signature was refused.")
    errors: list[FieldError] = Field(default_factory=list, description="Every field at fault.")


_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Gone",
    413: "ContentTooLarge",
    415: "UnsupportedMediaType",
    422: "BadInput",
    429: "RateLimited",
    503: "Unavailable",
}


def error_name(status: int) -> str:
    """The ``error`` of an answer made by the HTTP layer itself (``NotFound`` for 404)."""
    if status in _NAMES:
        return _NAMES[status]
    try:
        return HTTPStatus(status).phrase.title().replace(" ", "").replace("-", "")
    except ValueError:
        return "Error"


def error_body(status: int, detail: str, **extra: Any) -> dict[str, Any]:
    """The JSON of an error answer (what the handlers send; for code that answers by hand)."""
    body = ErrorBody(error=extra.pop("error", error_name(status)), detail=detail, **extra)
    return body.model_dump(exclude_none=True)


def _status(exc: GrapevineError) -> int:
    """The one place a domain error becomes a status code."""
    if isinstance(exc, InvalidSignature):
        return 400
    if isinstance(exc, BadInput | InvalidParameter):
        return 422
    if isinstance(exc, Conflict):
        return 409
    return 404 if isinstance(exc, UnknownPerson | NotFound) else 500


def _dotted(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(itertools.takewhile(lambda p: "[" not in p and "(" not in p, map(str, loc)))
    if len(parts) > 1 and parts[0] in ("body", "path", "query", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _sentence(field: str, message: str) -> str:
    message = message.rstrip(".")
    if message.startswith("The value "):
        return f"The {field!r} field {message.removeprefix('The value ')}."
    if message.startswith("The text "):
        return f"The {field!r} field {message.removeprefix('The text ')}."
    return f"The {field!r} field: {message[:1].lower()}{message[1:]}."


def _validation_body(errors: list[dict[str, Any]] | Any) -> dict[str, Any]:
    items = []
    for e in errors:
        loc = e.get("loc", ())
        if e.get("type") in ("json_invalid", "json_type") or not loc:
            field = "body"
        else:
            field = _dotted(loc)
        items.append(FieldError(field=field, message=str(e.get("msg", "")), type=e.get("type", "")))
    first = items[0] if items else FieldError(field="body", message="invalid", type="invalid")
    detail = _sentence(first.field, first.message)
    return ErrorBody(error="BadInput", detail=detail, field=first.field, errors=items).model_dump(
        exclude_none=True
    )


def validation_error(errors: list[dict[str, Any]] | Any) -> JSONResponse:
    """The 422 answer to a body or parameter that fails the schema."""
    return JSONResponse(_validation_body(errors), status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in the :class:`ErrorBody` shape and declare it in ``/openapi.json``."""

    @app.exception_handler(GrapevineError)
    async def _domain_error(_request: Request, exc: GrapevineError) -> JSONResponse:
        # Every missing record is a NotFound, the same answer as a route that is not there
        # (another tenant's campaign must look exactly like no campaign).
        name = "NotFound" if isinstance(exc, NotFound) else type(exc).__name__
        extra: dict[str, Any] = {"error": name}
        if isinstance(exc, InvalidSignature):
            extra["reason"] = exc.reason
        if isinstance(exc, BadInput) and exc.field is not None:
            extra["field"] = exc.field
            extra["errors"] = [FieldError(field=exc.field, message=exc.message, type="bad_input")]
        if isinstance(exc, InvalidParameter):
            extra["field"] = exc.name
        status = _status(exc)
        return JSONResponse(error_body(status, str(exc), **extra), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _schema_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_error(exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return JSONResponse(
            error_body(exc.status_code, detail),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            declare_error_body(plain())
        return app.openapi_schema or plain()

    app.openapi = openapi  # type: ignore[method-assign]


_REF = "#/components/schemas/ErrorBody"


def declare_error_body(schema: dict[str, Any]) -> dict[str, Any]:
    """Make every 4xx answer of ``schema`` (an OpenAPI document) an ``ErrorBody``, add the
    422 to every operation that takes input, and drop FastAPI's own validation schemas."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    generated = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(generated.pop("$defs", {}))
    components["ErrorBody"] = generated
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if operation.get("parameters") or operation.get("requestBody"):
                responses.setdefault("422", {"description": "Bad input: see field and errors."})
            for code, answer in responses.items():
                if code.startswith("4"):
                    if code == "422":
                        answer["description"] = "Bad input: see field and errors."
                    answer["content"] = {"application/json": {"schema": {"$ref": _REF}}}
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema


UNHANDLED_DETAIL = "The server failed to answer this request; the error was logged."


class UnhandledErrors:
    """ASGI middleware: an exception that escapes the app becomes a 500 in the error shape.

    Starlette's own last resort (``ServerErrorMiddleware``) sits outside every middleware the
    app adds, so its plain-text 500 carried none of the security headers. This one is the
    outermost of the app's middlewares and sends ``headers`` (the security headers of a
    non-HTML answer, :func:`grapevine.service._headers.security_headers`) itself, with HSTS
    when ``https`` or the request came over https. The traceback is logged on
    ``grapevine.service`` with the method and path; the client gets
    ``{"error": "InternalServerError", "detail": ...}``. An exception after the answer
    started cannot change it: it is logged and re-raised (the server closes the connection).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        headers: tuple[tuple[bytes, bytes], ...],
        https_headers: tuple[tuple[bytes, bytes], ...],
        https: bool = False,
    ) -> None:
        self.app = app
        self.https = https
        self._headers = headers
        self._https_headers = https_headers
        self._body = json.dumps(error_body(500, UNHANDLED_DETAIL)).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            _log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            secure = self.https or scope.get("scheme") == "https"
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(self._body)).encode()),
                        (b"cache-control", b"no-store"),
                        *(self._https_headers if secure else self._headers),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": self._body})
