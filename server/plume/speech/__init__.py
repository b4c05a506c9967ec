"""Transcription of recordings (docs/transcription.md): reading audio (`audio`), jobs on disk (`jobs`),
the commune's vocabulary (`vocabulary`), OpenAI's response formats and paragraphs (`formats`), and the
service that runs the jobs through the inference scheduler (`service`). The engine itself is
`plume.inference.speech`; the HTTP routes are `plume.api.audio`."""
