"""What the canvas and a tool say to each other, without either importing the other: the keyboard
modifiers of a mouse event, the plain shapes a tool asks the canvas to draw over the image (in image
coordinates), and ``CanvasTool``, the events a tool takes from the canvas."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

Point = tuple[float, float]


@dataclass(frozen=True)
class Mods:
    """Keyboard modifiers held during a mouse event; ``right``: the right button was pressed (given only to
    a tool that ``takes_right_button``)."""

    shift: bool = False
    ctrl: bool = False
    alt: bool = False
    right: bool = False


@dataclass(frozen=True)
class Circle:
    x: float
    y: float
    radius: float


@dataclass(frozen=True)
class Path:
    points: list[Point]
    closed: bool = False


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Handles:
    points: list[Point] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class Mask:
    """A translucent mask whose top-left pixel is (x, y): ``mask`` is a bool array (a prompt's preview)."""

    x: int
    y: int
    mask: Any


@dataclass(frozen=True)
class Marker:
    """A prompt point: positive (include) or negative (exclude)."""

    x: float
    y: float
    positive: bool = True


Shape = Circle | Path | Box | Handles | Mask | Marker


class CanvasTool(Protocol):
    """A tool as the canvas sees it (``segview.ui.editing.tools.Tool`` and its subclasses): image-coordinate
    mouse events and keys in, shapes to draw out. ``pans``: a left drag pans the view instead."""

    pans: bool
    takes_right_button: bool  # right clicks go to ``press`` (with ``Mods.right``) instead of the context menu

    def press(self, x: float, y: float, mods: Mods) -> None: ...
    def move(self, x: float, y: float, mods: Mods, pressed: bool) -> None: ...
    def release(self, x: float, y: float, mods: Mods) -> None: ...
    def double_click(self, x: float, y: float, mods: Mods) -> None: ...
    def key(self, key: str) -> bool: ...
    def busy(self) -> bool: ...
    def cancel(self) -> None: ...
    def preview(self) -> list[Shape]: ...
