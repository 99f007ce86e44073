"""Training: what a run is asked and reports (plan, torch-free), the data it reads (data, torch-free), a run
from a base card to a new card (session) with class-head surgery (heads), fine-tuning loops (finetune),
evaluation by mask AP, mIoU and PQ (evaluate), the procedural demo scenes (scenes) and the demo-model recipe
(demo). Depends on core, io and inference; never imports Qt. See docs/adr/0013-training.md."""
