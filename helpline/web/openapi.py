"""OpenAPI 3.1 document built from the route table and the pydantic models."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .. import __name__ as package
from . import schemas
from .params import QUERY, path_schema


@cache
def openapi_document() -> dict[str, Any]:
    from .routes import ROUTES

    models: set[type[BaseModel]] = {schemas.Error}
    for route in ROUTES:
        models.update(m for m in (route.body, route.response) if m)
        models.update(route.websocket_frames)
    _, defs = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        operation: dict[str, Any] = {"summary": route.summary, "tags": [route.tag], "responses": {}}
        if route.body:
            operation["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{route.body.__name__}"}}}}
        ok: dict[str, Any] = {"description": "OK"}
        if route.response:
            ok["content"] = {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{route.response.__name__}"}}}
        operation["responses"][str(101 if route.websocket_frames else route.status)] = (
            {"description": "Switching to WebSocket"} if route.websocket_frames else ok
        )
        for status in route.errors:
            operation["responses"][str(status)] = {
                "description": "Error", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Error"}}}}
        if route.websocket_frames:
            operation["x-websocket-client-frames"] = [
                {"$ref": f"#/components/schemas/{m.__name__}"} for m in route.websocket_frames
            ]
        if route.auth:
            operation["security"] = [{"session": []}]
        params = re.findall(r"{(\w+)}", route.path)
        parameters = [
            {"name": p, "in": "path", "required": True, "schema": path_schema(p)} for p in params
        ] + [{"name": q, "in": "query", "required": False, "schema": QUERY[q]} for q in route.query]
        if parameters:
            operation["parameters"] = parameters
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": package, "version": "1",
                 "description": "Anonymous helpline: visitors, counsellors, queue. "
                                "WebSocket events are described in docs/protocol.md."},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "helpline_session"}},
        },
    }
