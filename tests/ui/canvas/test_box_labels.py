"""Box labels stay inside a view fitted to the image (found by a new-user review: in the compare view a
label at the right edge was cut, "star 0.9")."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsScene, QGraphicsView

from segview.core.categories import Category, CategorySet
from segview.core.masks import CroppedMask
from segview.core.prediction import InstancePrediction, Prediction
from segview.ui.canvas.boxes import detection_items


def test_labels_of_boxes_at_every_edge_are_drawn_inside_the_fitted_image(qtbot):
    h, w = 120, 200
    corners = [(0, 0), (w - 20, 0), (0, h - 20), (w - 20, h - 20), (90, 50)]
    instances = []
    for x, y in corners:
        mask = np.zeros((h, w), bool)
        mask[y:y + 20, x:x + 20] = True
        instances.append(InstancePrediction(1, 0.97, CroppedMask.from_full(mask)))
    prediction = Prediction(h, w, instances)
    scene = QGraphicsScene()
    scene.addRect(0, 0, w, h)
    items = detection_items(prediction, CategorySet([Category(1, "a rather long name")]), 0.5)
    for item in items:
        scene.addItem(item)
    view = QGraphicsView(scene)
    qtbot.addWidget(view)
    view.resize(420, 260)
    view.show()
    qtbot.waitExposed(view)
    view.fitInView(QRectF(0, 0, w, h), Qt.AspectRatioMode.KeepAspectRatio)
    image = view.mapFromScene(QRectF(0, 0, w, h)).boundingRect()
    labels = [i for i in items if i.childItems()]  # the tags hold the text
    assert len(labels) == len(corners)
    for tag in labels:
        on_screen = tag.deviceTransform(view.viewportTransform()).mapRect(tag.boundingRect()).toAlignedRect()
        assert image.adjusted(-1, -1, 1, 1).contains(on_screen), (tag.childItems()[0].text(), on_screen, image)
    assert all(isinstance(i, QGraphicsRectItem) for i in items)
