"""Scoring the engine: question sets in their formats (ours, SQuAD, CMRC, CSV/JSONL), pure
metrics, the run against the engine and a plain llama-index baseline, reports, saved runs and
their comparison. Entry point: `runner.evaluate`."""
