"""The shape of a record id in a path."""

from typing import Any

# Path parameter constraints for a record id. Ids are slugs of at most 80 characters; anything
# else is simply not found, but an absurdly long one is refused before it is looked up.
RecordId: dict[str, Any] = {
    "max_length": 200,
    "description": "The record's id, a slug such as jtf-north.",
}
