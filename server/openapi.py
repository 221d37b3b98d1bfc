"""The OpenAPI 3.1 document, generated from the routes' msgspec schemas."""

from __future__ import annotations

import re
from typing import Any

import msgspec

import jobmon
from jobmon import wire
from jobmon.server.auth import Access
from jobmon.server.http import REQUEST_ID_HEADER, REQUEST_ID_PATTERN, Route

_REF = "#/components/schemas/{name}"
_PARAM_RE = re.compile(r"{(\w+)}")


def _query_parameters(query: type[Any], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    (ref,), components = msgspec.json.schema_components([query], ref_template=_REF)
    schema = components[ref["$ref"].rsplit("/", 1)[-1]]
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _path_parameter(name: str) -> dict[str, Any]:
    """Ids are positive bigints; other path parameters (cluster and queue names) are names."""
    if name.endswith("_id"):
        schema: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    else:
        schema = {"type": "string", "minLength": 1, "maxLength": 255}
    return {"name": name, "in": "path", "required": True, "schema": schema}


_REQUEST_ID = {
    "name": REQUEST_ID_HEADER, "in": "header", "required": False,
    "description": "The caller's id of the request; a retry sends the same one, and a "
                   "repeated run creation or claim then answers as the first did",
    "schema": {"type": "string", "pattern": REQUEST_ID_PATTERN},
}


def _operation_id(route: Route) -> str:
    # handler names repeat across modules (two `heartbeat`s); the module makes them unique
    module = route.handler.__module__.rsplit(".", 1)[-1]
    return f"{module}_{route.handler.__name__}"


def build(routes: list[Route]) -> dict[str, Any]:
    types: list[Any] = [wire.ErrorResponse]
    for route in routes:
        types.append(route.response)
        if route.request is not None:
            types.append(route.request)
    refs, components = msgspec.json.schema_components(types, ref_template=_REF)
    ref_of = {id(kind): ref for kind, ref in zip(types, refs, strict=True)}
    error = {"content": {"application/json": {"schema": ref_of[id(wire.ErrorResponse)]}}}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        parameters = [_path_parameter(name) for name in _PARAM_RE.findall(route.path)]
        parameters.append(_REQUEST_ID)
        if route.query is not None:
            parameters += _query_parameters(route.query, components)
        operation: dict[str, Any] = {
            "operationId": _operation_id(route),
            "summary": route.summary,
            "tags": [route.tag] if route.tag else [],
            "parameters": parameters,
            "responses": {
                "200": {"description": "OK",
                        "content": {"application/json": {"schema": ref_of[id(route.response)]}}},
                "400": {"description": "Invalid request", **error},
                "404": {"description": "Not found", **error},
                "409": {"description": "Not allowed in the current state", **error},
                "413": {"description": "Request body too large", **error},
                "421": {"description": "A local server does not answer to this Host", **error},
                "503": {"description": "Database unavailable; retry", **error},
                "504": {"description": "A database statement timed out; retry", **error},
                "507": {"description": "The database's disk is full; nothing was written",
                        **error},
            },
        }
        if route.access is not Access.PUBLIC:
            operation["responses"]["401"] = {"description": "No valid API token", **error}
            operation["responses"]["403"] = {"description": "Not the owner, nor an admin",
                                             **error}
        if route.request is not None:
            operation["responses"]["408"] = {"description": "The body did not arrive in time",
                                             **error}
        if route.method != "GET":
            operation["responses"]["415"] = {
                "description": "A write without Content-Type: application/json (a local "
                               "server refuses it, as a web page could send it)", **error}
        if route.request is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref_of[id(route.request)]}},
            }
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Jobmon", "version": jobmon.__version__,
                 "description": "Errors are {\"error\": {\"code\", \"message\"}}."},
        "paths": paths,
        "components": {"schemas": components},
    }
