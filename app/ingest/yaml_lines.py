"""YAML reading that remembers where each mapping and key stood, for errors that name a line."""

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode


class LinedDict(dict[str, Any]):
    """A YAML mapping that knows its own line and the line of each of its keys (1-based)."""

    line: int
    key_lines: dict[str, int]


class _LineLoader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """The safe loader, on libyaml's parser when PyYAML has it: it reads the seed data in a sixth
    of the time, with the same marks."""


def _construct_lined_mapping(loader: yaml.SafeLoader, node: MappingNode) -> LinedDict:
    mapping = LinedDict({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {str(key.value): key.start_mark.line + 1 for key, _ in node.value}
    return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_lined_mapping
)


class YamlError(ValueError):
    """A file that is not well-formed YAML, with the line the parser stopped at."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


def read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlError(path, line, f"not valid YAML: {error.problem or error}") from error
    except UnicodeDecodeError as error:
        raise YamlError(path, 1, f"not UTF-8 text: {error.reason}") from error


def line_of(document: Any, location: tuple[int | str, ...]) -> int:
    """The line of the deepest mapping or key that ``location`` (a Pydantic error loc) reaches."""
    line = getattr(document, "line", 1)
    node = document
    for step in location:
        if isinstance(node, LinedDict):
            line = node.key_lines.get(str(step), node.line)
            node = node.get(str(step))
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
            line = getattr(node, "line", line)
        else:
            break
    return line
