"""Editing the annotation of the image on screen: the tools (Qt-free, fed by the canvas), the editor that
wires them to actions, the Tools panel and the undo stacks, and accepting all predictions of a big image
off the GUI thread. Knows the window only through ``editor.EditorWindow``."""
