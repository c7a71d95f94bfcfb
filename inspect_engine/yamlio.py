"""Safe YAML reading for rule packs, with the line of every key for error messages.

Guarantees, each one a guard against a class of bad input:

* files over :data:`MAX_FILE_BYTES` are refused before parsing (an oversized pack);
* anchors and aliases are refused from the event stream, before any node is built (an alias bomb
  expands exponentially only when something walks it; refusing them costs packs nothing);
* duplicate keys in a mapping are refused (YAML parsers silently keep the last one);
* scalars are read the YAML 1.2 way: only ``true``/``false`` are booleans, so an answer written
  ``yes`` or ``no`` stays the string it looks like; dates stay strings for pydantic to parse;
* every failure is a :class:`~inspect_engine.errors.Problem` with file, key path and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from inspect_engine.errors import Problem

MAX_FILE_BYTES = 1_000_000
"""The largest pack file read (the biggest real section file is a few tens of kB)."""

KeyPath = tuple[str | int, ...]

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it (about 10x faster), else the pure-Python one."""

_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][-+]?[0-9]+)?$")
_NULL = {"", "~", "null", "Null", "NULL"}


@dataclass(frozen=True)
class Document:
    """A parsed YAML file: plain data plus the line (1-based) of every key path in it."""

    path: str
    data: Any
    lines: dict[KeyPath, int]

    def line_of(self, key: KeyPath) -> int | None:
        """The line of ``key``, or of its nearest ancestor that has one."""
        probe = tuple(key)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), None)


class YamlProblem(Exception):
    """Raised by :func:`read_yaml` with the problem that stopped it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.render())
        self.problem = problem


def dotted(key: KeyPath) -> str:
    """``("sections", 0, "items")`` -> ``sections.0.items``."""
    return ".".join(str(k) for k in key)


def read_yaml(path: Path, display: str | None = None) -> Document:
    """Read one pack file; raise :class:`YamlProblem` on anything unsafe or malformed."""
    name = display or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise YamlProblem(
                Problem(
                    name,
                    "",
                    f"file is {size:,} bytes; a pack file may be at most {MAX_FILE_BYTES:,} bytes",
                )
            )
        raw = path.read_bytes()
    except OSError as err:
        raise YamlProblem(Problem(name, "", f"cannot read file: {err.strerror}")) from err
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise YamlProblem(
            Problem(name, "", f"not UTF-8 text (byte {err.start}): pack files are UTF-8 YAML")
        ) from err
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> Document:
    """Parse YAML text (see the module docstring for what is refused)."""
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                line = event.start_mark.line + 1 if event.start_mark else None
                raise YamlProblem(
                    Problem(
                        name, "", "anchors and aliases (&, *) are not allowed in pack files", line
                    )
                )
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(p for p in (err.context, err.problem) if p)
        raise YamlProblem(Problem(name, "", f"not valid YAML: {message}", line)) from err
    except yaml.YAMLError as err:
        raise YamlProblem(Problem(name, "", f"not valid YAML: {err}")) from err
    if node is None:
        raise YamlProblem(Problem(name, "", "the file is empty"))
    lines: dict[KeyPath, int] = {}
    data = _convert(node, (), lines, name)
    return Document(name, data, lines)


def _convert(node: yaml.Node, key: KeyPath, lines: dict[KeyPath, int], name: str) -> Any:
    lines.setdefault(key, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for k_node, v_node in node.value:
            if not isinstance(k_node, yaml.ScalarNode):
                raise YamlProblem(
                    Problem(
                        name,
                        dotted(key),
                        "mapping keys must be plain text",
                        k_node.start_mark.line + 1,
                    )
                )
            k = str(k_node.value)
            if k in out:
                raise YamlProblem(
                    Problem(name, dotted((*key, k)), "duplicate key", k_node.start_mark.line + 1)
                )
            lines[(*key, k)] = k_node.start_mark.line + 1
            out[k] = _convert(v_node, (*key, k), lines, name)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(v, (*key, i), lines, name) for i, v in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node)


def _scalar(node: yaml.ScalarNode) -> Any:
    value = str(node.value)
    if node.style in ("'", '"', "|", ">"):  # quoted or block scalar: always a string
        return value
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    if value in _NULL:
        return None
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        return float(value)
    return value
