"""Dialogs and questions: export, getting a model's weights, accept all over an annotation, unsaved edits.
They know nothing of the window: what they need comes in as arguments."""
