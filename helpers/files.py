"""Writing files atomically: a reader never sees a half-written file.

Every "write to a temporary file beside the target, then rename it into place" in the package
goes through :func:`atomic_write` (bytes or text) or :func:`atomic_path` (for writers that
want a file name, such as Keras' ``save_weights``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike, suffix: str = ".part"):
    """Yield a temporary path beside ``dest``; rename it onto ``dest`` if the block succeeds.

    On any error the temporary file is removed and ``dest`` is left as it was. ``suffix`` lets
    writers that check the extension (``.weights.h5``) accept the temporary name.
    """
    dest = Path(dest)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=suffix)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would make the file private
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(dest: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` (text is UTF-8 encoded) to ``dest`` atomically."""
    payload = data.encode() if isinstance(data, str) else data
    with atomic_path(dest) as tmp:
        tmp.write_bytes(payload)
