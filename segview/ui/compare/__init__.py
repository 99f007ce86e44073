"""The 2×2 compare grid (image, semantic, instance, panoptic) and the panel that fills it in the
background and highlights where two sources disagree."""
