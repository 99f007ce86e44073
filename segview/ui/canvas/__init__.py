"""The image and what is drawn over it: the zoomable canvas, the label layers and their fast redraw after
an edit, the tool's preview shapes, the detection boxes, and the decoding of the image on screen. Knows
nothing of editing tools (a tool is a ``shapes.CanvasTool``), docks or the window."""
