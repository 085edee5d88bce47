"""Putting a saved directory in place without deleting anything the package did not write.

- A target may be new, an empty folder, or a detector this package saved whose every file still matches the
  list (names, sizes, SHA-256) in its ``detector.json`` (:func:`check_target`). Anything else, a foreign
  ``detector.json`` included, is refused with the files that are not ours; ``.``, the working directory and its
  parents are refused outright.
- The new detector is written into a staging folder beside the target (``.NAME.anomalylab-save.PID.XXXX``,
  marked as ours) and swapped with the old one in one step (Linux ``renameat2(RENAME_EXCHANGE)``), so a kill at
  any moment leaves the old detector or the new one at the target. Where the exchange is not available the old
  folder is first renamed into the staging folder; a kill between the two renames is repaired by the next save,
  which puts the old detector back before anything else.
- Staging folders of saves whose process is gone are removed by the next save beside them.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

from anomalylab.errors import InputError
from anomalylab.models.persistence.safety import read_manifest

FORMAT = "anomalylab-detector"
MANIFEST = "detector.json"
STAGING = ".anomalylab-save."  # staging folders are named .NAME + STAGING + PID + random
MARKER = ".anomalylab-staging"  # the file that marks a staging folder as the package's


def sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_list(root: Path) -> dict[str, dict]:
    """Every file under ``root`` but the top manifest: relative POSIX path -> {bytes, sha256}."""
    out = {}
    for file in sorted(root.rglob("*")):
        if file.is_file() and file != root / MANIFEST:
            out[file.relative_to(root).as_posix()] = {"bytes": file.stat().st_size, "sha256": sha256(file)}
    return out


def _foreign(target: Path) -> list[str]:
    """The files of ``target`` that its manifest does not list as the package's (empty: all are ours)."""
    try:
        manifest = read_manifest(target / MANIFEST)
    except InputError:
        manifest = {}
    listed = manifest.get("files")
    if manifest.get("format") != FORMAT or not isinstance(listed, dict):
        # no manifest, a foreign detector.json, or one saved before version 2 listed its files: nothing is ours
        return sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if not p.is_dir())
    foreign = []
    for path in sorted(target.rglob("*")):
        rel = path.relative_to(target).as_posix()
        info = os.lstat(path)
        if stat.S_ISDIR(info.st_mode) or rel == MANIFEST:
            continue
        entry = listed.get(rel)
        if not stat.S_ISREG(info.st_mode) or not isinstance(entry, dict) or entry.get("bytes") != info.st_size \
                or entry.get("sha256") != sha256(path):  # fmt: skip
            foreign.append(rel)
    return foreign


def check_target(target: Path) -> None:
    """Refuse a target that saving could destroy something of the user's in."""
    resolved, here = target.resolve(), Path.cwd().resolve()
    if resolved == here or here.is_relative_to(resolved):
        raise InputError(f"cannot save into {target}: it is the working directory or one of its parents; name a "
                         "new folder for the detector, e.g. models/my_detector.")  # fmt: skip
    if target.is_symlink():
        raise InputError(f"cannot save into {target}: it is a symbolic link; name a new folder.")
    if not target.exists():
        return
    if not target.is_dir():
        raise InputError(f"cannot save into {target}: it is a file; name a new folder for the detector.")
    if not any(target.iterdir()):
        return
    foreign = _foreign(target)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise InputError(f"cannot save into {target}: it holds files that anomalylab's save() did not write "
                         f"({shown}), and saving would replace the whole folder; choose a new path or an empty "
                         "folder (nothing was changed).")  # fmt: skip


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(target: Path) -> None:
    """Repair and remove what killed saves to ``target`` left: put back an old detector that a kill left in
    staging (target missing), then delete the staging folders of processes that are gone."""
    for folder in sorted(target.parent.glob(f".{target.name}{STAGING}*")):
        marker = folder / MARKER
        try:
            pid = int(marker.read_text().strip())
        except (OSError, ValueError):
            continue  # not one of ours: never touched
        if pid == os.getpid() or _alive(pid):
            continue
        old = folder / "old"
        if old.is_dir() and not target.exists():
            os.rename(old, target)
        shutil.rmtree(folder, ignore_errors=True)


def new_staging(target: Path) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}{STAGING}{os.getpid()}.", dir=target.parent))
    (folder / MARKER).write_text(f"{os.getpid()}\n")
    return folder


_RENAME_EXCHANGE, _AT_FDCWD = 2, -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2); False where the system or file system cannot."""
    libc_name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def swap_in(new: Path, target: Path, staging: Path) -> None:
    """Make ``new`` the folder at ``target``; the old folder (if any) ends up inside ``staging``."""
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        return
    os.rename(target, staging / "old")
    os.rename(new, target)


@contextlib.contextmanager
def staged(target: Path):
    """Yield a fresh folder to write the detector into; on success it replaces ``target`` in one swap."""
    check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    check_target(target)  # a repaired kill may have put an old detector back
    staging = new_staging(target)
    try:
        yield staging / "new"
        check_target(target)  # unchanged since the check above, or refused now: nothing is replaced
        swap_in(staging / "new", target, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
