"""segview: see, compare, correct and export semantic, instance and panoptic segmentations.

Importing this package must stay cheap: it imports neither torch nor Qt.
"""

__version__ = "0.1.0"
