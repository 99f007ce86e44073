"""The bridge passes on a prediction's failure only when it is the current model's: a failure of the model
used before a switch, arriving late, is not shown as this model's (it raced a model switch in the window)."""

from pathlib import Path

from segview.inference.model_process import ModelProcess
from segview.ui.inference_bridge import InferenceBridge


def test_a_failure_of_an_earlier_generation_is_dropped(qtbot):
    process = ModelProcess(start=False)
    bridge = InferenceBridge(process=process)
    failures = []
    bridge.failed.connect(lambda path, message: failures.append((path, message)))
    old = bridge.generation
    process.new_generation()  # a model switch
    bridge._on_event("error", ("predict", Path("a.png")), old, "the old model's weights are missing")
    assert failures == []
    bridge._on_event("error", ("predict", Path("a.png")), bridge.generation, "the image is corrupt")
    assert failures == [(Path("a.png"), "the image is corrupt")]
