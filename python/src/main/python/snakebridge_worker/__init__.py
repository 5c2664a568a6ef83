"""SnakeBridge worker: serves the SnakeBridge wire protocol (see PROTOCOL.md) on a pipe.

Standard library only. Run as ``python3 -m snakebridge_worker``.
"""
import json as _json
import os as _os

PROTOCOL_VERSION = 1
MIN_SUPPORTED_VERSION = 1
SCHEMA_VERSION = 1
MIN_PYTHON = (3, 10)

# The one source of truth for every protocol-level default; the Java driver reads this same file.
with open(_os.path.join(_os.path.dirname(__file__), "defaults.json"), encoding="utf-8") as _f:
    DEFAULTS = _json.load(_f)
