"""Dataset formats: COCO instances, COCO panoptic, semantic PNG, labelme. Depends on core only."""
