"""Core data model: categories, segment maps, masks, views, palettes, rendering. No Qt, no torch."""
