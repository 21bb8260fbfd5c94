"""OpenAPI generation (drf-spectacular): every operation documents the errors the platform
can answer with, in the one error shape, so a new resource gets them without annotations."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter

_STRINGS = {"type": "array", "items": {"type": "string"}}
COMPONENTS = {
    "ValidationError": {
        "type": "object",
        "description": "Bad input: messages per field; `non_field_errors` for the rest.",
        "additionalProperties": _STRINGS,
    },
    "Error": {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "Conflict": {
        "type": "object",
        "description": "The `version` sent is stale: the current version is given.",
        "properties": {"detail": {"type": "string"}, "version": {"type": "integer"}},
        "required": ["detail", "version"],
    },
    "PreconditionFailed": {
        "type": "object",
        "description": "The `If-Match` ETag is stale: the current ETag is given.",
        "properties": {"detail": {"type": "string"}, "etag": {"type": "string"}},
        "required": ["detail", "etag"],
    },
}

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="An ETag from an earlier response: 304 Not Modified when it is still current.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="The ETag the change is based on: 412 when it is stale, and nothing changes.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Optional, any unique string (a UUID): retrying with the same key and body "
    "within 24 hours returns the first response (header `Idempotent-Replayed: true`) instead "
    "of doing the work again; the same key with a different body gets 422.",
)


class AutoSchema(SpectacularAutoSchema):
    def _ref(self, name: str) -> dict:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=COMPONENTS[name]
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _error(self, name: str, description: str, headers: dict | None = None) -> dict:
        response = {
            "description": description,
            "content": {"application/json": {"schema": self._ref(name)}},
        }
        if headers:
            response["headers"] = headers
        return response

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response" or self.view.__class__.__name__.startswith("Spectacular"):
            return responses
        action = getattr(self.view, "action", None)
        errors = {
            "400": self._error("ValidationError", "Bad input or filter"),
            "401": self._error(
                "Error",
                "Not signed in, or the token is invalid, expired or revoked",
                {"WWW-Authenticate": {"schema": {"type": "string"}}},
            ),
            "403": self._error("Error", "Your role, or a read-only token, does not allow this"),
            "404": self._error("Error", "No such item, or not in one of your workspaces"),
            "429": self._error(
                "Error",
                "Rate limited",
                {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}},
            ),
        }
        if action in ("retrieve", "list"):
            errors["304"] = {"description": "Not modified: the If-None-Match ETag is current"}
        if self.method == "POST":
            errors["422"] = self._error(
                "ValidationError", "The Idempotency-Key was used for a different request"
            )
            for code, response in responses.items():
                if code.startswith("2"):
                    response.setdefault("headers", {})["Idempotent-Replayed"] = {
                        "schema": {"type": "string", "enum": ["true"]},
                        "description": "Present on a stored response sent again.",
                    }
        if self.method in ("PATCH", "PUT"):
            errors["409"] = self._error("Conflict", "Stale version: nothing was changed")
            errors["412"] = self._error("PreconditionFailed", "Stale If-Match: nothing changed")
        for code, response in errors.items():
            responses.setdefault(code, response)
        for code, response in responses.items():
            if code.startswith("2") and action in ("retrieve", "partial_update", "update", "list"):
                response.setdefault("headers", {})["ETag"] = {"schema": {"type": "string"}}
            if code.startswith("2") and action == "list":
                response.setdefault("headers", {})["Link"] = {
                    "schema": {"type": "string"},
                    "description": 'The next and previous pages (rel="next", rel="prev").',
                }
        return responses

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        action = getattr(self.view, "action", None)
        if action == "list" and hasattr(self.view, "list_filter_class"):
            filter_class = self.view.list_filter_class()
            if filter_class().fields:
                parameters.append(filter_class)
        if action == "list":
            parameters.append(IF_NONE_MATCH)
        if action in ("retrieve", "partial_update", "update", "destroy"):
            parameters.append(
                getattr(self.view, "lookup_parameter", None)
                or OpenApiParameter("id", int, OpenApiParameter.PATH)
            )
        if action == "retrieve":
            parameters.append(IF_NONE_MATCH)
        elif action in ("partial_update", "update"):
            parameters.append(IF_MATCH)
        if self.method == "POST":
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def get_summary(self):
        summaries = getattr(self.view, "schema_summaries", {})
        return summaries.get(getattr(self.view, "action", None)) or super().get_summary()

    def get_request_serializer(self):
        action = getattr(self.view, "action", None)
        create = getattr(self.view, "input_serializer_class", None)
        update = getattr(self.view, "update_serializer_class", None)
        if action == "create" and create:
            return create
        if action in ("partial_update", "update") and update:
            return update
        return super().get_request_serializer()


def postprocess(result: dict, generator, request, public) -> dict:
    """Schema-wide finishing: operations that need no credentials say so (`security: []`, the
    public roadmap), and every operation has a summary."""
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or method == "parameters":
                continue
            if not operation.get("security") or operation["security"] == [{}]:
                operation["security"] = []
            if not operation.get("summary"):
                words = operation.get("operationId", f"{method} {path}").replace("_", " ")
                operation["summary"] = words[:1].upper() + words[1:]
    return result
