#!/usr/bin/env python
"""Writes server/plume/routing/data/services.vectors.npz: the embeddings of the shipped service
directory's descriptions (services.toml), so that Plume does not compute them at each start. Run it
after editing the shipped services.toml (tests/test_routing.py checks they match).

    .venv/bin/python scripts/directory-vectors.py
"""

import io
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from plume.files import atomic_write  # noqa: E402
from plume.inference.embeddings import bundled_embedder  # noqa: E402
from plume.routing.directory import load_directory  # noqa: E402
from plume.routing.router import SHIPPED_VECTORS, descriptions_key  # noqa: E402

embedder = bundled_embedder()
descriptions = load_directory().descriptions()
buffer = io.BytesIO()
np.savez_compressed(buffer, key=np.frombuffer(descriptions_key(embedder.id, descriptions), dtype=np.uint8),
                    vectors=embedder.embed([text for _, text in descriptions]))
atomic_write(SHIPPED_VECTORS, buffer.getvalue(), mode=0o644)
print(f"{SHIPPED_VECTORS}: {len(descriptions)} descriptions, {embedder.id}")
