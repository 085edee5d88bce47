"""The registry of raw files (path, sha256, canonical URL) and fetching with verification, from the
internet or from an offline mirror (``ANOMALYLAB_DATA_MIRROR``)."""

from __future__ import annotations

import functools
import os
import shutil
import time
from pathlib import Path

import pooch

from anomalylab import paths
from anomalylab.errors import DataError, InputError

MIRROR_ENV = "ANOMALYLAB_DATA_MIRROR"
REGISTRY_FILE = Path(__file__).parent.parent / "registry.txt"
FIX_HINT = (
    "Run `make data` to fetch and verify the raw files, or, on a machine without "
    f"internet, set {MIRROR_ENV} to a directory laid out like shared/datasets "
    f"(e.g. `export {MIRROR_ENV}=../shared/datasets`) and run `make data`."
)

pooch.get_logger().setLevel("WARNING")


# --------------------------------------------------------------------------- registry


@functools.lru_cache(maxsize=1)
def _registry_entries() -> dict[str, tuple[str, str]]:
    """path -> (sha256, url), read from ``registry.txt``."""
    entries = {}
    for line in REGISTRY_FILE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, digest, url = line.split()
        entries[name] = (digest, url)
    return entries


def registry_names() -> list[str]:
    """Every raw file the project knows, as paths relative to ``data/raw/``."""
    return sorted(_registry_entries())


def _make_pooch(raw_dir: Path) -> pooch.Pooch:
    entries = _registry_entries()
    return pooch.create(
        path=raw_dir,
        base_url="",
        registry={name: digest for name, (digest, _) in entries.items()},
        urls={name: url for name, (_, url) in entries.items()},
        retry_if_failed=0,
    )


def mirror_dir(mirror: str | Path | None = None) -> Path | None:
    """The offline mirror as an absolute path (``mirror``, else ``$ANOMALYLAB_DATA_MIRROR``, else None).

    A relative path is resolved against the repository root (``paths.ROOT``), not the working directory:
    notebooks run in ``notebooks/``, tests and ``make`` in the root, and all must find the same mirror.
    """
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_ENV) or None
    if mirror is None:
        return None
    mirror = Path(mirror).expanduser()
    return (mirror if mirror.is_absolute() else paths.ROOT / mirror).resolve()


STALE_DOWNLOAD_SECONDS = 3600


def _remove_stale_downloads(folder: Path) -> None:
    """Delete pooch's temporary ``tmp*`` files that a killed fetch left in ``folder`` (an hour old or more: a
    live download of these files takes seconds)."""
    if not folder.is_dir():
        return
    now = time.time()
    for tmp in folder.glob("tmp*"):
        try:
            if tmp.is_file() and now - tmp.stat().st_mtime > STALE_DOWNLOAD_SECONDS:
                tmp.unlink()
        except OSError:
            pass


class _MirrorCopy:
    """A pooch downloader that copies ``name`` from a local mirror directory."""

    def __init__(self, mirror: Path, name: str):
        self.source = mirror / name

    def __call__(self, url, output_file, pooch_obj):  # noqa: ARG002 (pooch's signature)
        if not self.source.is_file():
            raise DataError(
                f"{self.source} is missing from the mirror {self.source.parent}. "
                f"Point {MIRROR_ENV} at a directory laid out like shared/datasets "
                "(it must contain this file), or unset it to download from the canonical URL."
            )
        shutil.copyfile(self.source, output_file)


def fetch(name: str, raw_dir: Path | None = None, mirror: str | Path | None = None) -> Path:
    """Return the local path of raw file ``name``, fetching and verifying it if needed.

    ``name`` is a registry path such as ``"kddcup99/corrected.gz"``. A file
    already in ``raw_dir`` (default ``data/raw``) is re-hashed and kept if it
    matches; otherwise it is fetched again. ``mirror`` (default: the
    ``ANOMALYLAB_DATA_MIRROR`` variable) makes the fetch a local copy.
    """
    entries = _registry_entries()
    if name not in entries:
        close = [n for n in entries if Path(n).name == Path(name).name]
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise InputError(
            f"{name!r} is not a registered raw file.{hint} "
            "See anomalylab.datasets.registry_names() for the full list."
        )
    raw_dir = Path(raw_dir) if raw_dir is not None else paths.RAW_DIR
    local = raw_dir / name
    if local.is_file() and pooch.file_hash(str(local)) == entries[name][0]:
        return local  # verified: neither the mirror nor the network is needed
    _remove_stale_downloads(local.parent)
    mirror = mirror_dir(mirror)
    p = _make_pooch(raw_dir)
    downloader = None
    if mirror is not None:
        if not mirror.is_dir():
            raise DataError(f"{MIRROR_ENV} resolves to {mirror}, which is not a directory (a relative path is "
                            "read from the repository root). " + FIX_HINT)  # fmt: skip
        downloader = _MirrorCopy(mirror, name)
    try:
        return Path(p.fetch(name, downloader=downloader))
    except DataError:
        raise
    except ValueError as exc:  # pooch's hash mismatch
        local.unlink(missing_ok=True)  # a corrupt local copy must not stay behind either
        source = f"the mirror {mirror}" if mirror is not None else entries[name][1]
        raise DataError(
            f"{name} from {source} failed its sha256 check and was not kept ({exc}). "
            + FIX_HINT
        ) from exc
    except PermissionError as exc:
        raise DataError(
            f"cannot write {name} into {raw_dir} ({exc}). Make the folder writable (chmod u+w), or set "
            f"{paths.HOME_ENV} to a writable directory for data, figures and tables."
        ) from exc
    except Exception as exc:  # network errors, ...
        raise DataError(
            f"Could not fetch {name} from {entries[name][1]} "
            f"({type(exc).__name__}: {exc}). " + FIX_HINT
        ) from exc


def fetch_all(raw_dir: Path | None = None, progress: bool = True) -> list[Path]:
    """Fetch and verify every registered raw file; return their local paths."""
    names = registry_names()
    if progress:
        from tqdm.auto import tqdm

        names = tqdm(names, desc="raw data", unit="file")
    return [fetch(n, raw_dir=raw_dir) for n in names]


