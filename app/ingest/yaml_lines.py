"""YAML reading that remembers where each mapping, key and list item stood, for errors that name
a line."""

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


class LinedDict(dict[str, Any]):
    """A YAML mapping that knows its own line and the line of each of its keys (1-based)."""

    line: int
    key_lines: dict[str, int]


class _LineLoader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """The safe loader, on libyaml's parser when PyYAML has it: it reads the seed data in a sixth
    of the time, with the same marks.

    Parsing is about 40% of ``muster check``'s CPU (README, "At scale"), yet PyYAML stays: the
    bundle format is YAML 1.1 as PyYAML reads it, and the two faster parsers tried read YAML 1.2
    (``yes`` is text, ``012`` is not 10, ``<<`` merges nothing). On 350 files of the 1000x
    synthetic bundles (bench/synthetic.py), yaml-rs 0.1.6 read them in 1/6.6 of ``read_yaml``'s
    time and ryaml 0.5.1 in 1/3.8 (medians of 5 rounds of a throwaway script, not kept in
    bench/); but ryaml wraps the archived serde-yaml, and yaml-rs reads even a quoted
    ``"2025-01-22"`` as a date."""


class LinedList(list[Any]):
    """A YAML sequence that knows the line of each of its items (1-based)."""

    item_lines: list[int]


def _construct_lined_sequence(loader: yaml.SafeLoader, node: SequenceNode) -> LinedList:
    sequence = LinedList(loader.construct_sequence(node, deep=True))
    sequence.item_lines = [item.start_mark.line + 1 for item in node.value]
    return sequence


def _construct_lined_mapping(loader: yaml.SafeLoader, node: MappingNode) -> LinedDict:
    mapping = LinedDict({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {str(key.value): key.start_mark.line + 1 for key, _ in node.value}
    return mapping


def _construct_timestamp_or_text(loader: yaml.SafeLoader, node: ScalarNode) -> Any:
    """A date as PyYAML reads it; an impossible one (``2025-13-22``) as its text, so that the
    record's model refuses it with the field's line and the reason, and the file's other records
    still count."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_lined_mapping
)
_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_lined_sequence
)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_or_text)


_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Builder:
    """The same data as ``loader.construct_document``, built by walking the node tree directly:
    PyYAML's generic constructor costs three times what parsing does, and bundles at scale hold
    millions of nodes. Plain mappings and lists (with their lines) and strings are built here;
    anything else (other scalars, other tags, merge keys) goes to the loader's own constructors.
    (A class rather than a closure that calls itself, which would be a reference cycle holding
    the whole document.)"""

    def __init__(self, loader: _LineLoader, lines: bool) -> None:
        self.loader = loader
        self.lines = lines
        self.built: dict[int, Any] = {}  # collections by node, so that aliases share (and recur)

    def build(self, node: Node) -> Any:
        loader = self.loader
        if isinstance(node, ScalarNode):
            return node.value if node.tag == _STR_TAG else loader.construct_object(node)
        if id(node) in self.built:
            return self.built[id(node)]
        if isinstance(node, SequenceNode) and node.tag == loader.DEFAULT_SEQUENCE_TAG:
            items: list[Any] = LinedList() if self.lines else []
            self.built[id(node)] = items
            if isinstance(items, LinedList):
                items.item_lines = [child.start_mark.line + 1 for child in node.value]
            items.extend(self.build(child) for child in node.value)
            return items
        if (
            isinstance(node, MappingNode)
            and node.tag == loader.DEFAULT_MAPPING_TAG
            and not any(key.tag == _MERGE_TAG for key, _ in node.value)
        ):
            if not self.lines:
                self.built[id(node)] = mapping = {}
                for key_node, value_node in node.value:
                    mapping[str(self.build(key_node))] = self.build(value_node)
                return mapping
            lined = LinedDict()
            self.built[id(node)] = lined
            lined.line = node.start_mark.line + 1
            lined.key_lines = {}
            for key_node, value_node in node.value:
                key = str(self.build(key_node))
                lined[key] = self.build(value_node)
                lined.key_lines[key] = key_node.start_mark.line + 1
            return lined
        self.built[id(node)] = value = loader.construct_object(node, deep=True)
        return value


class YamlError(ValueError):
    """A file that is not well-formed YAML, with the line the parser stopped at."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


def read_yaml(path: Path, *, lines: bool = True, content: bytes | None = None) -> Any:
    """The document in ``path`` (or in ``content``, its bytes when they were read already), as
    PyYAML's safe loader reads it. With ``lines``, its mappings and lists are a ``LinedDict`` and
    a ``LinedList``, for ``line_of``; without, plain ones: a check keeps no document, and reads a
    file again with lines only to report a problem (at 1000x, when a check still held every
    record, it peaked at 716 MB keeping them, 335 MB without: bench/load_speed.py)."""
    try:
        raw = path.read_bytes() if content is None else content
        loader = _LineLoader(raw.decode("utf-8"))
        try:
            root = loader.get_single_node()
            return None if root is None else _Builder(loader, lines).build(root)
        finally:
            loader.dispose()
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
            if isinstance(node, LinedList):
                line = node.item_lines[step]
            node = node[step]
            line = getattr(node, "line", line)
        else:
            break
    return line
