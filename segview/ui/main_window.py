"""The main window, the composition root of the ui: canvas (or compare grid) in the middle, the docks (images,
tools, history, layers, model, legend, classes, objects) around it; it builds the rooms and wires their signals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QStackedWidget,
    QWidget,
)

from segview.errors import SegviewError
from segview.inference.worker import Priority
from segview.ui.window_state import RecentPaths, restore_geometry, restore_layout, save_layout, set_theme

if TYPE_CHECKING:  # the window's parts are imported by build(), after the frame's first paint
    import numpy as np

    from segview.core.categories import CategorySet
    from segview.core.workspace import ImageEntry
    from segview.inference.model_process import ModelProcess
    from segview.ui.window_actions import Actions, Shortcut

READ_ONLY_BANNER = "Read-only: edits here are not saved — export them to keep them"


class MainWindow(QMainWindow):
    """segview's viewer window over a Workspace, with background inference through InferenceBridge."""

    def __init__(self, settings: QSettings | None = None, device: str = "auto", *, build: bool = True) -> None:
        """``build=False`` makes the frame only (title, size, an empty middle, "Starting…" in the status bar),
        which paints before the modules of the rest are even imported; ``build()`` adds the rest (the app
        calls it after the frame's first paint)."""
        super().__init__()
        self.setWindowTitle("segview")
        self.settings = settings or QSettings("segview", "segview")
        self.device = device
        self.built = False
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        restore_geometry(self, self.settings)
        if build:
            self.build()
        else:
            self.statusBar().showMessage("Starting…")

    def build(self, process: ModelProcess | None = None) -> None:
        """Everything but the frame: the model process first (``process``, spawned already by the app, or
        spawned now: torch's import in it overlaps the rest), then the canvas, docks, menus and tool bars,
        and the last session's dock layout."""
        from segview.core.workspace import Workspace
        from segview.ui.canvas.canvas import ImageCanvas
        from segview.ui.canvas.image_loader import ImageLoader
        from segview.ui.docks.layers_panel import LayersPanel
        from segview.ui.docks.legend import LegendPanel
        from segview.ui.docks.model_panel import ModelPanel
        from segview.ui.editing.editor import Editor
        from segview.ui.find_control import FindByName, SegmentEverything
        from segview.ui.inference_bridge import InferenceBridge
        from segview.ui.model_control import ModelControl
        from segview.ui.project_link import ProjectLink
        from segview.ui.training_control import TrainingControl

        self.bridge = InferenceBridge(self.device, self, process)
        self.statusBar().clearMessage()
        self.workspace = Workspace()
        self.current: int | None = None
        self._image: np.ndarray | None = None
        self._box_items: list = []
        self._image_error: str | None = None  # why the image chosen last could not be shown
        self._opened_annotated = False  # the image on screen had an annotation when it was shown

        self.canvas = ImageCanvas()
        self.canvas.setObjectName("canvas")
        self.stack.addWidget(self.canvas)
        self.compare = None

        self.model_control = ModelControl(self, self)
        self.training = TrainingControl(self, self.model_control.use_new_model, self)
        self.find_by_name = FindByName(self, self)
        self.segment_everything = SegmentEverything(self, self)
        self.image_loader = ImageLoader(self)
        self.layers_panel = LayersPanel()
        self.model_panel = ModelPanel()
        self.legend = LegendPanel()
        from segview.ui.docks.browser import ImageBrowser

        self.browser = ImageBrowser()
        from segview.ui.docks.classes_panel import ClassesPanel

        self.classes_panel = ClassesPanel(
            in_use=self._category_in_use, model_categories=lambda: self.workspace.model_categories
        )
        self.export_dialog = None
        self._docks = {
            "Images": self._dock("Images", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea),
            "Layers": self._dock("Layers", self.layers_panel, Qt.DockWidgetArea.RightDockWidgetArea, scroll=True),
            "Model": self._dock("Model", self.model_panel, Qt.DockWidgetArea.RightDockWidgetArea, scroll=True),
            "Legend": self._dock("Legend", self.legend, Qt.DockWidgetArea.RightDockWidgetArea),
            "Classes": self._dock("Classes", self.classes_panel, Qt.DockWidgetArea.RightDockWidgetArea, scroll=True),
        }
        self.editor = Editor(self)
        self.project_link = ProjectLink(on_write_error=lambda text: self.statusBar().showMessage(text, 30000))
        self._docks["Tools"] = self._dock("Tools", self.editor.panel, Qt.DockWidgetArea.LeftDockWidgetArea, scroll=True)
        self._docks["History"] = self._dock("History", self.editor.history_view, Qt.DockWidgetArea.LeftDockWidgetArea)
        from segview.ui.docks.objects_panel import ObjectsList

        self.objects = ObjectsList(self, self)
        self._docks["Objects"] = self._dock("Objects", self.objects.panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, self.editor.toolbar)
        self.device_label = QLabel("No model loaded")
        self.device_label.setObjectName("status-device")
        self.statusBar().addPermanentWidget(self.device_label)
        self.read_only_banner = QLabel(READ_ONLY_BANNER)
        self.read_only_banner.setObjectName("status-read-only")
        self.read_only_banner.setStyleSheet(
            "QLabel { background: #ffd666; color: #3a2a00; font-weight: bold; padding: 1px 6px; border-radius: 3px; }")
        self.read_only_banner.setVisible(False)
        self.statusBar().insertPermanentWidget(0, self.read_only_banner)
        self.read_only_notice: QMessageBox | None = None
        self.hover_label = QLabel("")
        self.hover_label.setObjectName("status-hover")
        # A long readout is cut, it must not set the window's minimum width.
        self.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.statusBar().addWidget(self.hover_label, 1)

        self.actions_ = self._make_actions()
        self.export_action = self.actions_.export
        self.model_control.cancel_action = self.actions_.cancel
        self.actions_.cancel.setEnabled(False)  # until "Run on all images"
        self._make_menus()
        self._connect()
        self.classes_panel.categories_changed.connect(self._categories_edited)
        self._install_navigation()
        restore_layout(self, self.settings, self._docks)
        self.recent = RecentPaths(self.recent_menu, self.settings, self.open_path)
        self._import_what_opening_needs()
        self.built = True

    @staticmethod
    def _import_what_opening_needs() -> None:
        """Import with the window what opening the first folder would otherwise import in its one turn of the
        event loop (the dataset readers, Pillow's common image plugins: ~25 ms that the window froze)."""
        from PIL import Image

        import segview.ui.dataset_open  # noqa: F401 - imported for its first use in open_path

        Image.preinit()

    # --- construction ------------------------------------------------------------------------------

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, scroll: bool = False) -> QDockWidget:
        """A dock around ``widget``; ``scroll`` puts a form-like panel in a vertical scroll area so that
        the window can get short (a laptop screen) without the panel setting its minimum height."""
        from segview.ui.docks.vertical_scroll import VerticalScroll

        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower()}")
        dock.setWidget(VerticalScroll(widget) if scroll else widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, shortcut: Shortcut, slot, checkable=False) -> QAction:
        from segview.ui.window_actions import make_action

        return make_action(self, text, shortcut, slot, checkable)

    def _make_actions(self) -> Actions:
        from segview.ui.window_actions import Actions, show_about, show_shortcuts

        return Actions(
            open_folder=self._action("Open &Folder…", QKeySequence.StandardKey.Open, self._ask_folder),
            open_dataset=self._action("Open &Dataset…", "Ctrl+Shift+O", self._ask_dataset),
            export=self._action("&Export…", "Ctrl+E", self.open_export_dialog),
            quit=self._action("&Quit", QKeySequence.StandardKey.Quit, self.close),
            fit=self._action("&Fit to Window", "F", self.canvas.fit),
            # Ctrl+1 too: with an editing tool, plain digits pick classes.
            actual_size=self._action("&Actual Size (1:1)", ["1", "Ctrl+1"], self.canvas.actual_size),
            zoom_in=self._action("Zoom &In", [QKeySequence(QKeySequence.StandardKey.ZoomIn), "Ctrl+="],
                                 lambda: self.canvas.zoom_by(1.25)),
            zoom_out=self._action("Zoom &Out", QKeySequence.StandardKey.ZoomOut, lambda: self.canvas.zoom_by(0.8)),
            next_image=self._action("&Next Image", "PgDown", self.browser.select_next),
            previous_image=self._action("&Previous Image", "PgUp", self.browser.select_previous),
            compare=self._action("&Compare View", "C", self._toggle_compare, checkable=True),
            boxes=self._action("Instance &Boxes", "B", lambda _checked=False: self.layers_panel.boxes.toggle(),
                               checkable=True),
            run_current=self._action("&Run on This Image", "R", self.model_control.run_current),
            run_all=self._action("Run on &All Images", "Ctrl+R", self.model_control.run_all),
            cancel=self._action("&Cancel Batch", "Esc", self.model_control.cancel_batch),
            train=self._action("&Train on Corrected Images…", None, self.training.open_panel),
            find_by_name=self._action("&Find by Name…", None, self.find_by_name.open),
            segment_everything=self._action("Segment &Everything", None, self.segment_everything.run),
            shortcuts=self._action("&Keyboard Shortcuts", "F1", lambda: show_shortcuts(self)),
            about=self._action("&About segview", None, lambda: show_about(self)),
        )

    def _make_menus(self) -> None:
        from segview.ui.window_actions import build_menus, layer_actions

        boxes = self.layers_panel.visible
        self.layer_actions = layer_actions(self, boxes)
        toggles = {self.actions_.boxes: self.layers_panel.boxes}
        toggles.update((self.layer_actions[name], box) for name, box in boxes.items())
        self.menus = build_menus(self, self.actions_, self.layer_actions, toggles, self._docks.values(),
                                 lambda theme: set_theme(self.settings, theme))
        self.recent_menu = self.menus.recent
        self.editor.fill_menu(self.menus.edit)

    def _connect(self) -> None:
        self.browser.current_changed.connect(self.show_image)
        self.layers_panel.changed.connect(self._apply_layer_styles)
        self.legend.hidden_changed.connect(lambda _h: self._apply_layer_styles())
        self.canvas.hovered.connect(self._hovered)
        self.editor.status_changed.connect(lambda i: self.browser.set_status(i, self.workspace.entries[i].status))
        self.editor.history_created.connect(
            lambda path, history: self.project_link.attach(path, history, self.workspace.categories))
        self.editor.categories_adopted.connect(self.classes_panel.set_categories)
        self.editor.categories_adopted.connect(self._categories_edited)  # saved, layers redrawn
        self.model_control.connect_signals()
        self.find_by_name.connect_signals()
        self.segment_everything.connect_signals()
        from segview.ui.weights_offer import WeightsOffer

        self.weights_offer = WeightsOffer(self, self.settings)  # missing weights: download, local file, not now
        self.segment_everything.weights_wanted.connect(self.weights_offer.offer)
        self.find_by_name.download_wanted.connect(self.weights_offer.download_all)
        self.weights_offer.downloads_done.connect(self.find_by_name.retry)
        self.editor.prompts.weights_wanted.connect(self.weights_offer.offer)
        self.image_loader.full_ready.connect(self._full_image_ready)
        self.image_loader.failed.connect(lambda _t, message: self._show_unreadable(self.current, message))

    # --- opening ------------------------------------------------------------------------------------

    def open_path(self, path: str | Path) -> None:
        """Open a folder of images, or a COCO / panoptic / labelme dataset (its annotations shown)."""
        from segview.core.report import Report
        from segview.core.workspace import ImageEntry
        from segview.io.images import is_image_file
        from segview.ui.dataset_open import exported_dataset, looks_like_dataset, open_dataset
        from segview.ui.dialogs.unsaved_prompt import may_drop_unsaved

        path = Path(path)
        if not may_drop_unsaved(self, self.project_link.unsaved_steps, f"Open {path.name}", self.open_export_dialog):
            return
        exported = exported_dataset(path) if path.is_dir() else None
        if exported is not None:  # a segview export: open what it describes, not its masks as images
            self.statusBar().showMessage(f"{path.name} is a segview export: opened {exported.name}.", 15000)
            path = exported
        try:
            if path.is_dir() and not looks_like_dataset(path):
                from segview.io.folder_images import collect_images

                skipped = Report()
                _root, files = collect_images([path], skipped)
                entries = [ImageEntry(f) for f in files]
                categories, message = self.project_link.open(path, entries)
                message = " ".join([*(issue.message for issue in skipped.issues), message]).strip()
            elif path.is_file() and is_image_file(path):
                QMessageBox.warning(self, "Cannot open", f"{path.name} is an image, not a dataset. To see it, "
                                    f"open its folder with File → Open Folder… ({path.parent}).")
                return
            else:  # a dataset gets a project too; a bad file keeps the open folder's project open
                entries, categories, message = open_dataset(path, self.project_link)
            self._set_entries(entries, categories, self.project_link.last_edited(entries) or 0)
            if message:
                self.statusBar().showMessage(message, 30000)
            if self.project_link.read_only:  # said before the first edit
                self._notify_read_only(path, message)
        except SegviewError as exc:
            QMessageBox.warning(self, "Cannot open", str(exc))
            return
        self.recent.remember(path)
        self.setWindowTitle(f"segview — {path.name}" + (" (read-only)" if self.project_link.read_only else ""))
        self.read_only_banner.setVisible(self.project_link.read_only)  # stays while this folder is shown
        if not self.project_link.read_only and self.read_only_notice is not None:
            self.read_only_notice.close()

    def _notify_read_only(self, folder: Path, message: str) -> None:
        """Say once, in a box that does not block the window, that edits in this folder are not saved."""
        if self.read_only_notice is not None:
            self.read_only_notice.close()
            self.read_only_notice.deleteLater()
        box = QMessageBox(QMessageBox.Icon.Information, "Opened read-only",
                          f"{folder.name} is open read-only: edits made here are not saved.\n\n{message}",
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("read-only-notice")
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.show()
        self.read_only_notice = box

    def _set_entries(self, entries: list[ImageEntry], categories: CategorySet, shown: int = 0) -> None:
        from segview.core.workspace import Workspace

        self.bridge.cancel_all()
        self.workspace = Workspace(entries, categories, params=self.model_panel.params())
        self.classes_panel.set_categories(categories)
        self.current = None
        self.editor.clear()
        self.browser.set_images([e.path for e in entries], [e.status for e in entries])
        if entries:
            self.browser.select(shown)

    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images")
        if folder:
            self.open_path(folder)

    def _ask_dataset(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open a COCO or panoptic dataset", "", "JSON (*.json)")
        if name:
            self.open_path(name)

    # --- showing an image ---------------------------------------------------------------------------

    def show_image(self, index: int) -> None:
        """Show image ``index``: its pixels, its layers, and ask the model about it and its neighbours."""
        if not 0 <= index < len(self.workspace.entries):
            return
        entry = self.workspace.entries[index]
        try:
            opened = self.image_loader.open(entry.path)  # a big JPEG: a preview now, the full image soon
        except SegviewError as exc:
            self._show_unreadable(index, str(exc))
            return
        if self._image_error is not None:  # the previous image's error must not seem to be this one's
            if self.statusBar().currentMessage() == self._image_error:
                self.statusBar().clearMessage()
            self._image_error = None
        self.current = index
        # an annotation undone back to its empty start is not one: the prediction stays in view
        self._opened_annotated = entry.annotated
        self._image = opened.image if opened.complete else None
        self.canvas.set_image(opened.image)
        if self.compare is not None:
            self.compare.set_image(opened.image)
        if not opened.complete:  # a big image: its preview on screen before its layers are computed
            self.stack.currentWidget().repaint()
        self.refresh_layers()
        self.project_link.restore_history(entry, self.editor.stacks)  # undo reaches into earlier sessions
        if opened.complete:
            self.editor.set_image(index, entry, self._image)
        else:
            self.editor.detach()  # edits wait for the full image
            self.statusBar().showMessage(f"Loading {entry.path.name} at full resolution…", 10000)
        self.editor.history_view.setEmptyLabel(self.project_link.history_origin(entry))
        if entry.prediction is None:
            self.bridge.request(entry.path, Priority.VISIBLE)
        self.model_control.prefetch_neighbours(index)

    def _show_unreadable(self, index: int, message: str) -> None:
        """Image ``index`` cannot be read: say why, show nothing to edit, still prefetch its neighbours."""
        self._image = None
        self.current = None  # nothing on screen to edit: edits must not reach the previous image
        self._image_error = message
        self.statusBar().showMessage(self._image_error, 10000)
        self.canvas.set_image(None)
        self.editor.detach()
        self.refresh_layers()
        if self.compare is not None:
            self.compare.set_image(None)
        self.model_control.prefetch_neighbours(index)  # the model loads and the next images get ready all the same

    def _full_image_ready(self, ticket: int, rgb: np.ndarray) -> None:
        """The full decode of the image on screen replaces its preview; editing starts."""
        entry = self.current_entry()
        if entry is None or not self.image_loader.is_current(ticket):
            return
        self._image = rgb
        self.canvas.set_image(rgb)
        if self.compare is not None:
            self.compare.set_image(rgb)
        self.editor.set_image(self.current, entry, rgb)
        if self.statusBar().currentMessage().startswith("Loading "):
            self.statusBar().clearMessage()

    def current_entry(self) -> ImageEntry | None:
        return None if self.current is None else self.workspace.entries[self.current]

    def refresh_layers(self) -> None:
        """Recompute every layer's data for the current image (after a new result or new parameters)."""
        from segview.ui.layer_display import set_layers

        entry = self.current_entry()
        set_layers(self.canvas, entry, self.workspace)
        self._refresh_boxes()
        self.refresh_legend()
        self._refresh_compare()
        self._apply_layer_styles()
        if entry is not None and entry is self.editor.entry:
            self.editor.layers_refreshed()
        self.canvas.rehover()  # the pixel readout under a still mouse describes what is on screen now

    def _shows_annotation(self, entry: ImageEntry | None) -> bool:
        """Whether the image is shown as annotated, so that the prediction does not stack on its
        annotation unless turned on: it was opened so, or it holds accepted predictions. A first stroke
        from scratch keeps the prediction in view, as the guide it is."""
        from segview.ui.layer_display import shows_annotation

        return shows_annotation(entry, self._opened_annotated)

    def edited(self) -> None:
        """After an edit step: restyle the layers when the image has just turned annotated."""
        if self._shows_annotation(self.current_entry()) != self.layers_panel.annotated:
            self._apply_layer_styles()

    def _apply_layer_styles(self) -> None:
        from segview.core.layers import LayerSource, LayerView, layer_name
        from segview.core.render import layer_style
        from segview.ui.layer_display import hidden_labels

        mode = self.layers_panel.overlay_mode()
        hidden = self.legend.hidden
        entry = self.current_entry()
        self.layers_panel.set_annotated(self._shows_annotation(entry))
        for name, item in self.canvas.layers().items():
            opacity, fill_alpha = layer_style(mode, self.layers_panel.opacity_of(name))
            self.canvas.set_layer_style(name, mode, opacity, fill_alpha=fill_alpha)
            item.setVisible(self.layers_panel.is_visible(name))
            item.set_hidden(hidden_labels(name, hidden, entry, self.workspace) | self.objects.hidden_labels(name))
        show_boxes = self.layers_panel.boxes.isChecked() and self.layers_panel.is_visible(
            layer_name(LayerSource.PREDICTION, LayerView.INSTANCE)
        )
        for item in self._box_items:
            item.setVisible(show_boxes)
        if self.compare is not None:
            self.compare.set_style(mode, 0.6)

    def _refresh_boxes(self) -> None:
        for item in self._box_items:
            self.canvas.scene().removeItem(item)
        self._box_items = []
        entry = self.current_entry()
        if entry is None or entry.prediction is None:
            return
        from segview.ui.canvas.boxes import detection_items

        self._box_items = detection_items(entry.prediction, self.workspace.model_categories,
                                          self.workspace.params.score_threshold)
        for item in self._box_items:
            self.canvas.scene().addItem(item)

    def refresh_legend(self) -> None:
        from segview.ui.layer_display import legend_content

        self.legend.set_categories(*legend_content(self.current_entry(), self.workspace))

    def _refresh_compare(self) -> None:
        if self.compare is None or self.current is None:
            return
        from segview.ui.compare.controller import fill_compare

        fill_compare(self.compare, self.current_entry(), self.workspace)

    # --- inference ---------------------------------------------------------------------------------

    def set_model(self, name: str) -> None:
        """Use another model: old results are kept as the reference for model-vs-model diffs."""
        self.model_control.set_model(name)

    # --- hover, compare ------------------------------------------------------------------------------

    def _hovered(self, x: int, y: int) -> None:
        entry = self.current_entry()
        if entry is None or x < 0:
            self.hover_label.setText("")
            return
        from segview.ui.layer_display import hover_text

        text = hover_text(entry, self.workspace, x, y)
        self.hover_label.setText(text)

    def _toggle_compare(self, on: bool) -> None:
        if on and self.compare is None:
            from segview.ui.compare.controller import ComparePanel

            self.compare = ComparePanel(self.layers_panel.overlay_mode(), self.layers_panel.boxes.isChecked)
            self.compare.choice_changed.connect(self._refresh_compare)
            self.compare.view.hovered.connect(self._hovered)
            self.stack.addWidget(self.compare)
        if self.compare is not None:
            self.stack.setCurrentWidget(self.compare if on else self.canvas)
            if on and self.canvas.image_item.pyramid is not None:  # the image, or its preview
                self.compare.set_image(self.canvas.image_item.pyramid)
                self._refresh_compare()
                self.compare.fit()

    # --- classes, export -----------------------------------------------------------------------------

    def _install_navigation(self) -> None:
        """A tool bar with previous / next and the saved state; the Objects dock's hidden segments and the
        class name field (Enter gives the keys back to the canvas) wired to the window."""
        from segview.ui.navigation import SaveStatus, navigation_toolbar

        self.save_status = SaveStatus(self.project_link)
        self.editor.history_created.connect(lambda _path, history: self.save_status.watch(history))
        self.editor.refreshed.connect(self.save_status.refresh)
        self.addToolBar(navigation_toolbar(self.actions_.previous_image, self.actions_.next_image, self.save_status))
        self.objects.hidden_changed.connect(self._apply_layer_styles)
        self._docks["Objects"].visibilityChanged.connect(self.objects.set_in_sight)
        self.classes_panel.name_entered.connect(self.canvas.setFocus)

    def _category_in_use(self, category_id: int) -> int:
        from segview.core.category_edits import segment_counts

        return segment_counts(e.annotation for e in self.workspace.entries)[category_id]

    def _categories_edited(self, categories: CategorySet) -> None:
        self.workspace.categories = categories
        self.project_link.save_categories(categories)
        self.refresh_layers()

    def open_export_dialog(self):
        """Open the export dialog (window-modal, not blocking) over the workspace's images."""
        from segview.core.export_scope import dataset_for_scope
        from segview.ui.dialogs.export_dialog import ExportDialog

        previous = self.export_dialog
        if previous is not None and previous.is_running():
            previous.show()
            previous.raise_()
            return previous
        if previous is not None:
            previous.deleteLater()
        selected = [self.current] if self.current is not None else []
        dialog = ExportDialog(
            lambda scope, chosen: dataset_for_scope(self.workspace, scope, chosen),
            selected=selected,
            folder=str(self.settings.value("export_folder", "")),
            parent=self,
        )
        dialog.export_finished.connect(lambda _r: self.settings.setValue("export_folder", dialog.folder.text()))
        dialog.export_finished.connect(lambda _r: self.project_link.exported())
        # The scope buttons say what they export in the dialog's own words (export_dialog.SCOPE_LABELS).
        self.export_dialog = dialog
        dialog.open()
        return dialog

    # --- keys, closing ---------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        # Escape that no widget used (Cancel Batch is off outside a batch): a search field's text first,
        # then the tool's shape in progress or the selection.
        if event.key() == Qt.Key.Key_Escape and not event.modifiers():
            field = QApplication.focusWidget()
            if isinstance(field, QLineEdit) and not field.isReadOnly() and field.text():
                field.clear()
                event.accept()
                return
            if self.built and self.editor.escape():
                event.accept()
                return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        from segview.ui.dialogs.unsaved_prompt import may_drop_unsaved

        if not self.built:  # closed while starting: nothing opened yet
            super().closeEvent(event)
            return
        if not may_drop_unsaved(self, self.project_link.unsaved_steps, "Quit", self.open_export_dialog):
            event.ignore()
            return
        if not self.training.may_quit():
            event.ignore()
            return
        save_layout(self, self.settings)
        self.bridge.shutdown(wait=False)  # the thread ends after its request; app.run joins it
        self.project_link.close()
        super().closeEvent(event)
