"""The OpenAPI document as client generators read it, refined from what FastAPI writes.

- Errors are documented as they are sent: ``application/problem+json`` holding a ``Problem``,
  for every 4XX and 5XX an operation lists (FastAPI would put the model under application/json).
- A success is documented as JSON alone. CSV and JSON Lines (``?format=csv``, ``?format=jsonl``
  or ``Accept``) are said in each operation's description, not as other media types or a
  ``format`` parameter:
  openapi-typescript would type every body as ``Page | string``, and openapi-python-client would
  parse a CSV answer as JSON.
- A query parameter is never null (it is given or not), so its schema has no ``null`` branch,
  which generators would turn into a union named after its place (``SearchKindType0``).
- No authentication: ``security: []``; and the one server is wherever the document was fetched.
"""

from typing import Any

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
UNDOCUMENTED_PARAMETERS = {"format"}

CSV_NOTE = (
    "\n\nAlso as CSV or JSON Lines: add `format=csv` or `format=jsonl` to the query, or send "
    "`Accept: text/csv` or `Accept: application/jsonl`; see *CSV and JSON Lines* in the API's "
    "description."
)


def refine(spec: dict[str, Any]) -> dict[str, Any]:
    """Rewrite FastAPI's document in place, as the module's docstring says; returns it."""
    spec["security"] = []
    spec["servers"] = [{"url": "/", "description": "The server this document came from."}]
    for operation in _operations(spec):
        takes_format = False
        parameters = []
        for parameter in operation.get("parameters", []):
            if parameter["name"] in UNDOCUMENTED_PARAMETERS:
                takes_format = True
                continue
            if parameter["in"] == "query":
                parameter["schema"] = _not_null(parameter["schema"])
            parameters.append(parameter)
        if "parameters" in operation:
            operation["parameters"] = parameters
        for status, response in operation["responses"].items():
            if status[0] in "45":
                response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}
        if takes_format:
            operation["description"] += CSV_NOTE
    spec["components"]["schemas"].pop("Format", None)  # only the undocumented parameter used it
    return spec


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for methods in spec["paths"].values() for operation in methods.values()]


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without its ``null`` alternative, unwrapped when one is left."""
    alternatives = [branch for branch in schema.get("anyOf", []) if branch != {"type": "null"}]
    if "anyOf" not in schema or len(alternatives) == len(schema["anyOf"]):
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    if len(alternatives) == 1:
        return {**alternatives[0], **rest}
    return {**rest, "anyOf": alternatives}
