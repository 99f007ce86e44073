"""Training helpers: the procedural demo scenes and (later) the demo-model recipe."""
