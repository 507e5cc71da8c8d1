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
- A 304 Not Modified (no body) is documented where the edge answers one: every operation but
  the health checks, whose answers set their own ``Cache-Control: no-store`` and so carry no
  ETag (app/api/response_cache.py). A client that revalidates then reads a 304 as documented,
  not as an unexpected status.
- The response headers are declared where they are sent (``components.headers``): ETag,
  Cache-Control and Vary; X-Data-Version on what reads the data; X-Total-Count on lists;
  Link (only where there is a next page) on what is paged; X-Request-ID on every answer. A 304
  carries the headers of its 200.
- No authentication: ``security: []``; and the one server is wherever the document was fetched.
"""

from typing import Any

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBES = {"healthz", "readyz"}
"""The health checks, by operationId: they read no data, so send no X-Data-Version, and set
their own ``Cache-Control: no-store``, so get no ETag, no Vary and never a 304."""
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
UNDOCUMENTED_PARAMETERS = {"format"}

CSV_NOTE = (
    "\n\nAlso as CSV or JSON Lines: add `format=csv` or `format=jsonl` to the query, or send "
    "`Accept: text/csv` or `Accept: application/jsonl`; see *CSV and JSON Lines* in the API's "
    "description."
)


def _header(description: str, schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": schema}


STRING = {"type": "string"}
HEADERS = {
    "ETag": _header(
        "The answer's strong validator: send it back in `If-None-Match` to get a 304 Not "
        "Modified, with no body, while the answer is the same. The gzip body has a tag of its own.",
        STRING,
    ),
    "Cache-Control": _header(
        "`public, max-age=60`: a cache may keep the answer a minute, then revalidate it with "
        "`If-None-Match`.",
        STRING,
    ),
    "Cache-Control.probe": _header("`no-store`: a health check answers for now only.", STRING),
    "Vary": _header(
        "`Accept, Accept-Encoding` (and `Origin` where only some origins may read the API): "
        "what a cache must key the answer by.",
        STRING,
    ),
    "X-Data-Version": _header(
        "The version of the data the answer is of, a content hash (on /v1/changes, the version "
        "the walk leads to): ask `/v1/changes?since=` it next time to sync.",
        STRING,
    ),
    "X-Total-Count": _header(
        "How many items the list holds over all pages, as the body's `total`.",
        {"type": "integer", "minimum": 0},
    ),
    "Link": _header(
        'The next page as `<url>; rel="next"` (RFC 8288), the body\'s `next`; absent on the '
        "last page.",
        STRING,
        required=False,
    ),
    "X-Request-ID": _header(
        "The request's id, in the server's log line: the client's own `X-Request-ID` when it is "
        "1 to 128 letters, digits or `._:-`, else a new one.",
        STRING,
    ),
}
NOT_MODIFIED = "Not Modified: the `If-None-Match` tag is the answer's current one; no body."


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
        _declare_headers(spec, operation)
    spec["components"]["schemas"].pop("Format", None)  # only the undocumented parameter used it
    spec["components"]["headers"] = {
        name: header for name, header in HEADERS.items() if header["required"]
    }
    return spec


def _header_or_ref(name: str) -> dict[str, Any]:
    """A reference to the header's component; an optional header in full, since
    openapi-typescript types a referenced one as always sent (``Link``, not ``Link?``)."""
    header = HEADERS[name]
    return {"$ref": f"#/components/headers/{name}"} if header["required"] else header


def _declare_headers(spec: dict[str, Any], operation: dict[str, Any]) -> None:
    """The headers of the operation's 200 (and 304 where it answers one), as the module's
    docstring says."""
    responses = operation["responses"]
    names = ["X-Request-ID"]
    if operation["operationId"] in PROBES:
        names.append("Cache-Control.probe")
    else:
        names += ["ETag", "Cache-Control", "Vary", "X-Data-Version"]
    answer = responses["200"]["content"]["application/json"]["schema"]
    model = spec["components"]["schemas"][answer["$ref"].rsplit("/", 1)[-1]]
    if "total" in model.get("properties", {}):
        names.append("X-Total-Count")
    if any(parameter["name"] == "cursor" for parameter in operation.get("parameters", [])):
        names.append("Link")
    # A component's name is the header's, and after a dot which of its values it documents.
    headers = {name.split(".")[0]: _header_or_ref(name) for name in names}
    responses["200"]["headers"] = headers
    if operation["operationId"] not in PROBES:
        responses["304"] = {"description": NOT_MODIFIED, "headers": headers}


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
