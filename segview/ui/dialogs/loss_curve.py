"""A small plot of the training loss by step, drawn with QPainter (PySide6-Essentials has no QtCharts):
the loss of each step as a faint line, its running average over it, the step axis up to the budget."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

SMOOTHING = 0.9  # the running average's weight of the past (an exponential moving average)


def smoothed(values: Sequence[float], weight: float = SMOOTHING) -> list[float]:
    """The exponential moving average of ``values``, bias-corrected so that it starts at the first value."""
    out, average = [], 0.0
    for i, value in enumerate(values, start=1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight**i))
    return out


class LossCurve(QWidget):
    """The loss by step: ``set_points`` with every (step, loss) so far and the budget in steps."""

    MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 44, 8, 8, 18

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loss-curve")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.points: list[tuple[int, float]] = []
        self.total_steps = 0

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(360, 150)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(160, 80)

    def set_points(self, points: Sequence[tuple[int, float]], total_steps: int) -> None:
        """Show these (step, loss) points on a step axis from 0 to ``total_steps`` (or the last step)."""
        self.points = [(int(s), float(v)) for s, v in points]
        self.total_steps = int(total_steps)
        self.update()

    def clear(self) -> None:
        self.set_points([], 0)

    def plot_rect(self) -> QRectF:
        """Where the curve is drawn, inside the axes' labels."""
        return QRectF(self.MARGIN_LEFT, self.MARGIN_TOP, max(1, self.width() - self.MARGIN_LEFT - self.MARGIN_RIGHT),
                      max(1, self.height() - self.MARGIN_TOP - self.MARGIN_BOTTOM))

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        rect = self.plot_rect()
        text = palette.color(QPalette.ColorRole.Text)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.drawRect(rect)
        if not self.points:
            painter.setPen(text)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "The loss appears here as it trains")
            return
        steps = [s for s, _ in self.points]
        losses = [v for _, v in self.points]
        x_max = max(self.total_steps, steps[-1], 1)
        y_min, y_max = min(0.0, min(losses)), max(losses)
        y_max = y_max if y_max > y_min else y_min + 1.0

        def at(step: float, loss: float) -> QPointF:
            return QPointF(rect.left() + rect.width() * step / x_max,
                           rect.bottom() - rect.height() * (loss - y_min) / (y_max - y_min))

        highlight = palette.color(QPalette.ColorRole.Highlight)
        faint = highlight.lighter(160) if highlight.lightness() < 128 else highlight.darker(140)
        faint.setAlpha(110)
        for values, colour, width in ((losses, faint, 1.0), (smoothed(losses), highlight, 2.0)):
            path = QPainterPath(at(steps[0], values[0]))
            for step, value in zip(steps[1:], values[1:], strict=True):
                path.lineTo(at(step, value))
            painter.setPen(QPen(colour, width))
            painter.drawPath(path)
            if len(steps) == 1:
                painter.drawEllipse(at(steps[0], values[0]), 2.0, 2.0)
        painter.setPen(text)
        left = QRectF(0, rect.top() - 6, self.MARGIN_LEFT - 4, 14)
        painter.drawText(left, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{y_max:.3g}")
        painter.drawText(left.translated(0, rect.height()), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         f"{y_min:.3g}")
        below = QRectF(rect.left(), rect.bottom() + 2, rect.width(), self.MARGIN_BOTTOM - 2)
        painter.drawText(below, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, "step 0")
        painter.drawText(below, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, f"{x_max}")
        painter.drawText(below, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                         f"loss {losses[-1]:.3g} at step {steps[-1]}")
