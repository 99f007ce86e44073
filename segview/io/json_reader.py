"""Reading a parsed JSON document with errors that name the file and the JSON path of every problem."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, NoReturn

from segview.errors import FormatError
from segview.io.file_names import file_name_problem, shown, text_problem

_REQUIRED = object()


class JsonReader:
    """Typed access to a parsed JSON document; every problem is a FormatError naming file and JSON path."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def load(self) -> Any:
        """Parse the file; a missing or malformed file is a FormatError."""
        try:
            return json.loads(self.file.read_bytes())
        except FileNotFoundError:
            raise FormatError(f"{self.file} does not exist. Check the path.") from None
        except OSError as exc:
            raise FormatError(f"Could not read {self.file}: {exc.strerror or exc}.") from exc
        except json.JSONDecodeError as exc:
            raise FormatError(
                f"{self.file} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). "
                "Fix or re-export the file."
            ) from exc
        except (UnicodeDecodeError, RecursionError) as exc:
            raise FormatError(
                f"{self.file} is not a UTF-8 JSON document ({exc}). Re-export the file."
            ) from exc

    def fail(self, path: str, problem: str) -> NoReturn:
        where = path or "the document"
        raise FormatError(
            f"{self.file}: {where} {problem}. Fix the file (or re-export it) and load it again."
        )

    def check(self, value: Any, path: str, kind: str) -> Any:
        """``value`` as ``kind``: 'dict', 'list', 'str', 'int', 'number' or 'flag' (0/1/true/false)."""
        if kind == "dict" and isinstance(value, dict):
            return value
        if kind == "list" and isinstance(value, list):
            return value
        if kind == "str" and isinstance(value, str):
            problem = text_problem(value)
            if problem is not None:
                self.fail(f"{path} {shown(value)}", problem)
            return value
        if kind == "flag" and (isinstance(value, bool) or (type(value) is int and value in (0, 1))):
            return bool(value)
        if not isinstance(value, bool) and isinstance(value, (int, float)):
            if kind == "number" and math.isfinite(value):
                return value
            if kind == "int" and (isinstance(value, int) or (math.isfinite(value) and value.is_integer())):
                return int(value)
        expected = {
            "dict": "an object",
            "list": "a list",
            "str": "a string",
            "int": "an integer",
            "number": "a finite number",
            "flag": "0, 1, true or false",
        }[kind]
        text = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        self.fail(path, f"must be {expected}, not {type(value).__name__} {text}")

    def get(self, obj: dict, path: str, key: str, kind: str, default: Any = _REQUIRED) -> Any:
        """``obj[key]`` checked as ``kind``; ``path`` is the JSON path of ``obj``."""
        where = f"{path}.{key}" if path else key
        if key not in obj:
            if default is _REQUIRED:
                self.fail(where, "is missing")
            return default
        return self.check(obj[key], where, kind)

    def file_name(self, obj: dict, path: str, key: str = "file_name") -> str:
        """``obj[key]`` as a file name that can be a path (see :func:`segview.io.file_names.file_name_problem`)."""
        name = self.get(obj, path, key, "str")
        problem = "is empty" if not name else file_name_problem(name)
        if problem is not None:
            self.fail(f"{path}.{key} {shown(name)}", problem)
        return name

    def integer(self, obj: dict, path: str, key: str, low: int, high: int) -> int:
        """``obj[key]`` as an integer in ``low`` .. ``high``."""
        value = self.get(obj, path, key, "int")
        if not low <= value <= high:
            self.fail(f"{path}.{key}", f"must be between {low} and {high}, not {value}")
        return value

    def items(self, obj: dict, path: str, key: str, kind: str = "dict") -> list[tuple[str, Any]]:
        """The entries of the list ``obj[key]`` with their JSON paths, each checked as ``kind``."""
        where = f"{path}.{key}" if path else key
        return [
            (f"{where}[{i}]", self.check(v, f"{where}[{i}]", kind))
            for i, v in enumerate(self.get(obj, path, key, "list"))
        ]
