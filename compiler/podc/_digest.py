"""SHA-256 from the interpreter's built-in module.

``hashlib`` loads OpenSSL when it is imported (~3-5 ms, a noticeable part of a ``podc compile``
that pre-commit runs on every commit); the built-in ``_sha256`` (``_sha2`` from Python 3.12)
gives the same digests without it. ``hashlib`` remains the fallback for interpreters built
without it.
"""

from __future__ import annotations

try:
    from _sha256 import sha256  # type: ignore[import-not-found]  (Python 3.11)
except ImportError:
    try:
        from _sha2 import sha256  # type: ignore[import-not-found,no-redef]  (Python 3.12+)
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment]

__all__ = ["sha256"]
