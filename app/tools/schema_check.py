"""JSON Schema checks of tool arguments and results: fast when valid, precise when not.

jsonschema-rs (compiled, Draft 2020-12) answers "is it valid?" in microseconds, which matters for
results such as a 500-cluster list (the pure-Python validator spent ~120 ms on one). Only when it
says no does the pure-Python `jsonschema` walk the instance to name the most relevant violation,
so error messages stay those of `jsonschema.exceptions.best_match`.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema.validators import Draft202012Validator


class SchemaCheck:
    def __init__(self, schema: dict[str, Any]) -> None:
        self._fast = jsonschema_rs.Draft202012Validator(schema)
        self._precise = Draft202012Validator(schema)

    def first_violation(self, instance: Any) -> str | None:
        """None when `instance` conforms, else the most relevant violation ("path: message")."""
        if self._fast.is_valid(instance):
            return None
        error = jsonschema.exceptions.best_match(self._precise.iter_errors(instance))
        if error is None:
            return None
        where = "/".join(str(part) for part in error.absolute_path)
        return f"{where}: {error.message}" if where else error.message
