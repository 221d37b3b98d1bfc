"""The OpenAPI 3.1 document, generated from the routes' msgspec schemas."""

from __future__ import annotations

import re
from typing import Any

import msgspec

import jobmon
from jobmon import wire
from jobmon.server.http import Route

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
        parameters = [
            {"name": name, "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}
            for name in _PARAM_RE.findall(route.path)
        ]
        if route.query is not None:
            parameters += _query_parameters(route.query, components)
        operation: dict[str, Any] = {
            "operationId": route.handler.__name__ + "_" + route.method.lower(),
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
                "503": {"description": "Database unavailable; retry", **error},
            },
        }
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
