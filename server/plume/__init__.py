"""Plume: a local writing assistant for a commune's administration."""

import os
from importlib.metadata import PackageNotFoundError, version

# No connection leaves the town's server. ONNX Runtime (>= 1.29) and onnxruntime-genai ship 1DS
# telemetry that, unless ORT_DISABLE_TELEMETRY=1 is in the environment when the native library
# initialises, resolves mobile.events.data.microsoft.com a few seconds after a model loads, opens TLS
# to it and keeps a device id under ~/.cache/Microsoft. Every Plume process imports this package
# before any runtime (the engines live in plume.inference), so this is the one place that holds for
# the server, the CLI and any subprocess started from them (they inherit the environment). Forced,
# not defaulted: the commune's promise is not a setting, so an inherited ORT_DISABLE_TELEMETRY=0 is
# overridden. tests/test_outbound_strace.py checks it at the syscall level.
NO_TELEMETRY_ENVIRONMENT = {"ORT_DISABLE_TELEMETRY": "1"}
os.environ.update(NO_TELEMETRY_ENVIRONMENT)

try:
    __version__ = version("plume")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
