"""The installed Qt binding keeps Python's reference counts right (a broken one aborts the app)."""

import sys

from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage, QPainter


def test_void_qt_calls_do_not_drop_references_to_none(qapp):
    # PySide6 6.12.0 decrements None's count on every void call; on Python 3.11 the app then aborts with
    # "deallocating None" after a few minutes of painting. Python >= 3.12 (immortal None) reads 0.
    target = QImage(8, 8, QImage.Format.Format_ARGB32_Premultiplied)
    source = QImage(4, 4, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(target)
    before = sys.getrefcount(None)
    for _ in range(1000):
        painter.save()
        painter.resetTransform()
        painter.drawImage(QPointF(0, 0), source)
        painter.restore()
    lost = before - sys.getrefcount(None)
    painter.end()
    assert lost < 100, f"the Qt binding dropped {lost} references to None in 4000 calls"
