"""The window's dock panels, one module each: images (browser), layers, model, legend, classes and
objects; ``vertical_scroll`` lets a form-like panel shrink with the window."""
