"""Few-Shot Lab's fine-tuning worker: `python -m fewshot_worker --job job.json`.

Speaks the JSON-lines protocol of src/protocol/finetune.ts (FINETUNE_PROTOCOL_VERSION) on stdout.
"""

__version__ = "0.1.0"
PROTOCOL_VERSION = 1
