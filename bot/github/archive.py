"""A commit's tarball, read within caps: every file's mode and the text of the files small enough
to search. Used when GitHub truncates a recursive tree, and by the agent's search."""

from __future__ import annotations

import io
import logging
import tarfile
import zlib
from dataclasses import dataclass, field

from bot.github.files import BINARY_SNIFF_BYTES

log = logging.getLogger(__name__)

SYMLINK_MODE = "120000"
MAX_ARCHIVE_DOWNLOAD_BYTES = 256 * 2**20
MAX_ARCHIVE_UNPACKED_BYTES = 2 * 2**30
MAX_ARCHIVE_FILES = 300_000
MAX_SEARCHED_FILE_BYTES = 1_000_000
MAX_ARCHIVE_TEXT_BYTES = 100_000_000


@dataclass
class Archive:
    """What the tarball of one commit holds, as far as it was read: every file's mode, the
    targets of symbolic links, and the text of the files small enough to search."""

    sha: str | None
    modes: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    complete: bool = True  # every file of the commit is in `modes`
    texts_complete: bool = True  # every listed text file under MAX_SEARCHED_FILE_BYTES is in `texts`
    unpacked_bytes: int = 0
    text_bytes: int = 0


def read_tarball(data: bytes, sha: str | None, cut: bool = False) -> Archive:
    """Read GitHub's tarball of a commit (slow for a big repository: run it in a thread), within
    the caps on files, unpacked bytes and kept text. `cut`: the download stopped at its cap, so
    the end of the archive is missing."""
    archive = Archive(sha, complete=not cut)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r|*") as tar:
            while (member := tar.next()) is not None:
                tar.members.clear()  # a streamed archive would otherwise keep every header
                if not add_member(archive, tar, member):
                    archive.complete = False
                    break
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if not cut:
            log.warning("the archive of %s is unreadable after %d files: %s", sha, len(archive.modes), exc)
        archive.complete = False
    return archive


def add_member(archive: Archive, tar: tarfile.TarFile, member: tarfile.TarInfo) -> bool:
    """Record one member (GitHub's top folder is dropped from its name); False once a cap is reached."""
    path = member.name.partition("/")[2].rstrip("/")
    if not path or not (member.isfile() or member.issym()):
        return True
    archive.unpacked_bytes += member.size
    if len(archive.modes) >= MAX_ARCHIVE_FILES or archive.unpacked_bytes > MAX_ARCHIVE_UNPACKED_BYTES:
        return False
    if member.issym():
        archive.modes[path], archive.links[path] = SYMLINK_MODE, member.linkname
        return True
    archive.modes[path] = "100755" if member.mode & 0o111 else "100644"
    if member.size <= MAX_SEARCHED_FILE_BYTES:
        add_text(archive, path, tar, member)
    return True


def add_text(archive: Archive, path: str, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    """Keep a text file for search (read-only, so undecodable bytes may become U+FFFD); binary files are left out."""
    if archive.text_bytes + member.size > MAX_ARCHIVE_TEXT_BYTES:
        archive.texts_complete = False
        return
    handle = tar.extractfile(member)
    data = handle.read() if handle is not None else b""
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        return
    archive.text_bytes += len(data)
    archive.texts[path] = data.decode("utf-8", errors="replace")
