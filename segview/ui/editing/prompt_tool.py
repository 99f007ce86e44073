"""The prompt tool (T): points and a box in, a Segment Anything mask out.

Left click adds a positive point, right click (or Shift+click) a negative one, a left drag sets the box.
Each change asks the model process for the masks under the prompt (through the editor, which implements
:class:`PromptContext`); before the first click the mask under the cursor is previewed. Tab cycles the
candidates (a single point gives three, best first), Enter makes the shown one a new segment of the current
class, Shift+Enter adds it to the selected segment, Alt+Enter cuts it out of the selected segment (one undo
step each), Escape clears. No Qt here: masks arrive as ``CroppedMask`` through :meth:`PromptTool.show_result`.
"""

from __future__ import annotations

from typing import Protocol

from segview.core import edits
from segview.core.masks import CroppedMask
from segview.core.prompts import PromptSet
from segview.ui.canvas.shapes import Box, Marker, Mask, Shape
from segview.ui.editing.tools import ToolContext, _DragTool

Candidate = tuple[CroppedMask, float]  # the mask (cropped to its box) and its predicted IoU


class PromptContext(ToolContext, Protocol):
    """What the prompt tool needs beyond the other tools' context."""

    def request_prompt(self, prompts: PromptSet, multimask: bool, token: int) -> bool: ...  # False: no model
    def show_status(self, message: str) -> None: ...


class PromptTool(_DragTool):
    """Segment Anything prompts: points and a box, the masks previewed live, Enter to keep one."""

    name, label, shortcut = "prompt", "Prompt (Segment Anything)", "T"
    takes_right_button = True

    def __init__(self, ctx: PromptContext) -> None:
        super().__init__(ctx)
        self.ctx: PromptContext = ctx
        self.prompts = PromptSet()
        self.candidates: list[Candidate] = []
        self.index = 0
        self.token = 0  # the newest request; older answers are ignored
        self.hover: tuple[int, int] | None = None  # the pixel whose mask is previewed before the first click
        self._shape: Mask | None = None

    # --- events ------------------------------------------------------------------------------------

    def press(self, x, y, mods):
        if mods.right:
            self._add_point(x, y, positive=False)
        else:
            super().press(x, y, mods)

    def move(self, x, y, mods, pressed):
        super().move(x, y, mods, pressed)
        if not pressed and not self.prompts:
            pixel = (int(x), int(y))
            if pixel != self.hover:
                self.hover = pixel
                self._ask(PromptSet().with_point(pixel[0] + 0.5, pixel[1] + 0.5))

    def clicked(self, x, y, mods):
        self._add_point(x, y, positive=not mods.shift)

    def dragged(self, a, b, mods):
        self._set(self.prompts.with_box(a[0], a[1], b[0], b[1]))

    def key(self, key):
        if key == "tab" and self.prompts and len(self.candidates) > 1:
            self.index = (self.index + 1) % len(self.candidates)
            self._show()
            self.ctx.show_status(f"Candidate {self.index + 1} of {len(self.candidates)} "
                                 f"(predicted IoU {self.candidates[self.index][1]:.2f})")
            return True
        if key in ("enter", "shift+enter", "alt+enter") and self.prompts:
            if self.candidates:
                self.commit({"enter": "new", "shift+enter": "add", "alt+enter": "subtract"}[key])
            else:
                self.ctx.show_status("The mask is still being computed: press Enter again in a moment")
            return True
        return super().key(key)

    def busy(self):
        return super().busy() or bool(self.prompts)

    def cancel(self):
        """Escape, another image or another tool: drop the prompt and its masks."""
        self.start = self.end = None
        self.prompts = PromptSet()
        self.hover = None
        self._clear_candidates()

    # --- results ---------------------------------------------------------------------------------------

    def show_result(self, token: int, candidates: list[Candidate]) -> None:
        """The masks of request ``token`` (best first); an answer to an older request is ignored."""
        if token != self.token:
            return
        self.candidates = list(candidates)
        self.index = 0
        self._show()

    def current(self) -> CroppedMask | None:
        """The mask shown now (a candidate of the prompt, or the one under the cursor), if any."""
        return self.candidates[self.index][0] if self.candidates else None

    def commit(self, mode: str = "new") -> None:
        """Keep the shown mask: a new segment of the current class ("new"), or added to ("add") or cut out
        of ("subtract") the selected segment. One undo step; the prompt is cleared."""
        mask = self.current()
        history = self.ctx.history() if mask is not None else None
        if history is None:
            return
        annotation = history.annotation
        if mode == "new":
            sid, atom = edits.new_segment(annotation, mask, self._segment(), categories=self.ctx.categories())
            name = "Prompt"
        else:
            targets = [s for s in self.ctx.selection if s in annotation.segments]
            if not targets:
                self.ctx.show_status("Select the segment to add the mask to or cut it from (Shift/Alt+Enter)")
                return
            sid = targets[0]
            if mode == "add":
                atom, name = edits.paint(annotation, mask, sid), f"Prompt: add to segment {sid}"
            else:
                atom, name = edits.erase(annotation, mask, only=[sid]), f"Prompt: cut from segment {sid}"
        self.cancel()
        if atom is None:
            self.ctx.show_status("The mask changes nothing here")
            return
        history.apply(atom, name)
        self.ctx.select([sid])

    def preview(self) -> list[Shape]:
        shapes: list[Shape] = [] if self._shape is None else [self._shape]
        shapes += super().preview()  # the box being dragged
        if self.prompts.box is not None:
            x0, y0, x1, y1 = self.prompts.box
            shapes.append(Box(x0, y0, x1 - x0, y1 - y0))
        shapes += [Marker(x, y, positive) for x, y, positive in self.prompts.points]
        return shapes

    # --- internals -------------------------------------------------------------------------------------

    def _add_point(self, x: float, y: float, positive: bool) -> None:
        self._set(self.prompts.with_point(x, y, positive))

    def _set(self, prompts: PromptSet) -> None:
        self.prompts = prompts
        self.hover = None
        self._ask(prompts)

    def _ask(self, prompts: PromptSet) -> None:
        self.token += 1
        single_point = len(prompts.points) == 1 and prompts.box is None
        if not self.ctx.request_prompt(prompts, single_point, self.token):
            self.prompts = PromptSet()
        self.ctx.preview_changed()

    def _clear_candidates(self) -> None:
        self.token += 1
        self.candidates = []
        self.index = 0
        self._show()

    def _show(self) -> None:
        mask = self.current()
        self._shape = None if mask is None else Mask(mask.x, mask.y, mask.mask)
        self.ctx.preview_changed()
