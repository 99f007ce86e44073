"""Instance boxes with a readable label (class and score) for the canvas."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem

from segview.core.categories import CategorySet
from segview.core.layers import score_text
from segview.core.palette import instance_color
from segview.core.prediction import Prediction

BOX_Z, LABEL_Z = 10.0, 11.0


def detection_items(prediction: Prediction, categories: CategorySet, score_threshold: float) -> list[QGraphicsItem]:
    """A cosmetic box per detection above the threshold, and a label on its top edge that keeps its screen
    size at every zoom (see below for which corner) (white text, or black on light colours), in the detection's colour in
    the instance view (its class colour shaded by its rank). The score is cut to two decimals, as the
    threshold compares it."""
    items: list[QGraphicsItem] = []
    for rank, inst in enumerate(prediction.instances_above(score_threshold), start=1):
        color = QColor(*instance_color(rank, categories.color_of(inst.category_id)))
        box = QGraphicsRectItem(inst.mask.x, inst.mask.y, inst.mask.width, inst.mask.height)
        pen = QPen(color, 2)
        pen.setCosmetic(True)
        box.setPen(pen)
        box.setZValue(BOX_Z)
        category = categories.get(inst.category_id)
        text = QGraphicsSimpleTextItem(f"{category.name if category else inst.category_id} {score_text(inst.score)}")
        text.setBrush(QColor(0, 0, 0) if color.lightnessF() > 0.6 else QColor(255, 255, 255))
        size = text.boundingRect()
        # The label grows away from the image's edges, so that a view fitted to the image shows it whole:
        # leftwards from the box's right edge in the right half, downwards inside the box at the top.
        right = inst.mask.x + inst.mask.width / 2 > prediction.width / 2
        top = inst.mask.y < prediction.height / 20
        width, height = size.width() + 6, size.height() + 2
        tag = QGraphicsRectItem(-width if right else 0, 0 if top else -height, width, height)
        tag.setBrush(color)
        tag.setPen(Qt.PenStyle.NoPen)
        tag.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        tag.setPos(inst.mask.x + (inst.mask.width if right else 0), inst.mask.y)
        tag.setZValue(LABEL_Z)
        text.setParentItem(tag)
        text.setPos((-width if right else 0) + 3, (0 if top else -height) + 1)
        items += [box, tag]
    return items
