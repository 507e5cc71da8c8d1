"""Sort keys shared by the lists, and the shape of a record id in a path."""

from collections.abc import Callable
from typing import Any

from app.api.pagination import SortKey

BY_ID_OR_NAME: dict[str, Callable[[Any], SortKey]] = {
    "id": lambda record: (record.id,),
    "name": lambda record: (record.name.casefold(), record.id),
}

# Path parameter constraints for a record id. Ids are slugs of at most 80 characters; anything
# else is simply not found, but an absurdly long one is refused before it is looked up.
RecordId: dict[str, Any] = {
    "max_length": 200,
    "description": "The record's id, a slug such as jtf-north.",
}

BY_ID: dict[str, Callable[[Any], SortKey]] = {"id": BY_ID_OR_NAME["id"]}
