"""The window's prompt model (the Segment Anything card the prompt tool uses) and its requests.

It asks the model process for the embedding of the image on screen (and, at a lower priority, of the next
one) while the prompt tool is active, sends prompts, and passes their masks on. When the model process
finds the model's weights missing, it emits ``weights_wanted`` once each time the tool is chosen, so that
the window offers to get them (download, local file, not now) even after an earlier "not now": choosing the
tool is asking for them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal

from segview.core.prompts import PromptSet
from segview.errors import SegviewError
from segview.inference.cards import DEFAULT_PROMPT_MODEL
from segview.inference.worker import Priority
from segview.ui.inference_bridge import InferenceBridge

MODEL_KEY = "prompt/model"  # QSettings: the prompt model chosen


def prompt_models() -> list[tuple[str, str]]:
    """(name, title) of every prompt card (the SAM family), bundled and the user's."""
    from segview.inference.cards import list_cards

    try:
        return [(card.name, card.title) for card in list_cards() if card.task == "prompt"]
    except SegviewError:
        return []


class PromptSession(QObject):
    """Prompt requests for the editor; ``ready`` and ``failed`` report their answers for an image path."""

    ready = Signal(object, int, object)  # path, token, [(CroppedMask, score)]
    failed = Signal(object, str)  # path, message
    weights_wanted = Signal(str, str, list)  # model, message, [(card, file name)]: the window offers them

    def __init__(self, bridge: InferenceBridge, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.settings = settings
        self._offered: set[str] = set()  # models whose missing weights the window was asked to offer
        bridge.prompt_ready.connect(self.ready)
        bridge.prompt_failed.connect(self.failed)
        bridge.prompt_weights_missing.connect(self._missing)
        # weights that arrived may go missing again (offered again then); after a failed try the offer waits
        # for the tool to be chosen again, not for the next move of the mouse
        bridge.download_finished.connect(lambda name, ok, _message: ok and self._offered.discard(name))

    @property
    def model(self) -> str:
        return str(self.settings.value(MODEL_KEY, DEFAULT_PROMPT_MODEL))

    def set_model(self, name: str) -> None:
        self.settings.setValue(MODEL_KEY, name)

    def chosen(self) -> None:
        """The prompt tool was chosen (again): missing weights are offered again."""
        self._offered.clear()

    def _missing(self, name: str, message: str, files: list[tuple[str, str]]) -> None:
        """The model process found the prompt model's weights missing: the window offers them once."""
        self.failed.emit(None, f"the weights of {name} are not on this computer yet: choose the prompt tool "
                               "again (T) to get them")
        if name not in self._offered:  # once, not on every move of the mouse
            self._offered.add(name)
            self.weights_wanted.emit(name, message, files)

    def prepare(self, path: Path, next_path: Path | None) -> None:
        """Have the embeddings of the image on screen (first) and of the next image ready."""
        self.bridge.embed(path, self.model, Priority.VISIBLE)
        if next_path is not None:
            self.bridge.embed(next_path, self.model, Priority.NEIGHBOUR)

    def request(self, path: Path, prompts: PromptSet, multimask: bool, token: int) -> None:
        """Ask for a prompt's masks (answered through ``ready``, or ``failed``)."""
        self.bridge.decode(path, self.model, prompts, multimask, token)

