"""Training: fine-tuning torchvision models on COCO data (finetune), evaluation by mask AP, mIoU and PQ
(evaluate), the procedural demo scenes (scenes) and the demo-model recipe (demo). Depends on core, io and
inference; imports torch and never Qt."""
