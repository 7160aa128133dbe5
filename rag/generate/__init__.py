"""Stage 5 (optional), a generative answer: an OpenAI-compatible model or a local GGUF, the
prompt, and the check of every generated sentence against the passages it cites.
Entry point: `grounded.generate`."""
