"""Writing files atomically: a reader never sees a half-written file.

Every "write to a temporary file beside the target, then rename it into place" in the package
goes through :func:`atomic_write` (bytes or text) or :func:`atomic_path` (for writers that
want a file name, such as Keras' ``save_weights``). A writer killed before its rename leaves
its temporary behind; :func:`remove_stale_temporaries` clears those.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path

STALE_AFTER_S = 600  # a live writer touches its temporary far more often (downloads: each chunk)


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


def remove_stale(folder: str | os.PathLike, name_pattern: str,
                 max_age_s: float = STALE_AFTER_S) -> list[Path]:
    """Delete the files in ``folder`` whose whole name matches the regular expression
    ``name_pattern``, left behind by killed writers.

    Only those unchanged for ``max_age_s`` seconds go: a writer still running in another
    process keeps its own. Returns what was removed; a missing folder or a file that another
    process removed first is no error.
    """
    ours = re.compile(name_pattern, re.DOTALL)
    removed, cutoff = [], time.time() - max_age_s
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        try:
            if (ours.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)
                    and entry.stat(follow_symlinks=False).st_mtime < cutoff):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def remove_stale_temporaries(dest: str | os.PathLike,
                             max_age_s: float = STALE_AFTER_S) -> list[Path]:
    """Delete temporaries of ``dest`` that killed :func:`atomic_path` writers left behind
    (see :func:`remove_stale`)."""
    dest = Path(dest)
    # atomic_path's names: "." + dest's name + "." + mkstemp's 8 random characters + suffix
    return remove_stale(dest.parent, rf"\.{re.escape(dest.name)}\.[a-z0-9_]{{8}}.*", max_age_s)
