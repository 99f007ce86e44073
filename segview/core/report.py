"""Reports: everything a conversion or validation could not carry over, so nothing is dropped silently."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Issue:
    """One finding: how bad, what, and where (image file name and item, e.g. 'annotation 12')."""

    severity: Severity
    message: str
    image: str | None = None
    item: str | None = None

    def __str__(self) -> str:
        where = ", ".join(p for p in (self.image, self.item) if p)
        return f"{self.severity.value}: {where + ': ' if where else ''}{self.message}"


@dataclass
class Report:
    """An ordered list of issues with helpers to add and summarise them."""

    issues: list[Issue] = field(default_factory=list)

    def add(
        self, severity: Severity, message: str, image: str | None = None, item: str | None = None
    ) -> None:
        self.issues.append(Issue(Severity(severity), message, image, item))

    def info(self, message: str, image: str | None = None, item: str | None = None) -> None:
        self.add(Severity.INFO, message, image, item)

    def warning(self, message: str, image: str | None = None, item: str | None = None) -> None:
        self.add(Severity.WARNING, message, image, item)

    def error(self, message: str, image: str | None = None, item: str | None = None) -> None:
        self.add(Severity.ERROR, message, image, item)

    def extend(self, other: Report) -> None:
        self.issues.extend(other.issues)

    def of(self, severity: Severity) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity(severity)]

    @property
    def errors(self) -> list[Issue]:
        return self.of(Severity.ERROR)

    @property
    def warnings(self) -> list[Issue]:
        return self.of(Severity.WARNING)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings and infos allowed)."""
        return not self.errors

    def summary(self) -> str:
        return f"{len(self.errors)} error(s), {len(self.warnings)} warning(s), {len(self.of(Severity.INFO))} note(s)"

    def format(self, limit: int | None = None) -> str:
        """Human-readable lines, errors first, then a summary line."""
        ordered = sorted(
            self.issues, key=lambda i: [Severity.ERROR, Severity.WARNING, Severity.INFO].index(i.severity)
        )
        shown = ordered if limit is None else ordered[:limit]
        lines = [str(i) for i in shown]
        if limit is not None and len(ordered) > limit:
            lines.append(f"... and {len(ordered) - limit} more")
        lines.append(self.summary())
        return "\n".join(lines)
