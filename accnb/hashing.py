"""Digests of method sources and of canonical JSON, the parts of a reuse key."""

from __future__ import annotations

import ast
import hashlib
import json
from typing import Any


def digest(data: bytes) -> str:
    """A short, stable hex digest (blake2b, 20 bytes)."""
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def text_digest(text: str) -> str:
    """Digest of exact text: names stored sources, so a job can show what made it."""
    return digest(text.encode("utf-8"))


def code_digest(source: str) -> str:
    """Digest of what the code does: the parsed syntax tree without positions.

    Comments, blank lines and formatting leave it unchanged; any change to code,
    docstrings or constants changes it. Raises SyntaxError for invalid source.
    """
    return digest(ast.dump(ast.parse(source), include_attributes=False).encode("utf-8"))


def json_digest(obj: Any) -> str:
    """Digest of a JSON-able object, independent of dict order and whitespace."""
    return digest(canonical_json(obj).encode("utf-8"))


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
