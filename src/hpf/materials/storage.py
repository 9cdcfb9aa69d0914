"""Material files on disk: content-addressed by SHA-256, encrypted with the field cipher.

A file is written to a temporary name in its final directory, flushed to disk and renamed,
so a reader never sees half a file and a crash leaves at most a stray temporary file. The
ciphertext is bound to the file's SHA-256 (AES-GCM associated data): a file copied or renamed
to another material's name does not open. Nothing here is served by a static route; files
are read only through `hpf.materials.service.read`, which checks who asks.
"""

import hashlib
import os
import uuid
from pathlib import Path

from hpf.config import get_settings
from hpf.kit.crypto import field_cipher
from hpf.kit.errors import UpstreamUnavailable

SUFFIX = ".bin"


def root() -> Path:
    """The directory holding material files (settings.materials_dir, else var_dir/materials)."""
    settings = get_settings()
    return Path(settings.materials_dir or settings.var_dir / "materials")


def relative_path(sha256: str) -> str:
    """Where the file of a digest lives under root(): fanned out by its first two hex digits."""
    return f"{sha256[:2]}/{sha256}{SUFFIX}"


def _context(sha256: str) -> str:
    return f"mat_material.file:{sha256}"


def write(content: bytes) -> tuple[str, str]:
    """Store `content` encrypted (once per distinct content); its (sha256, relative path)."""
    sha256 = hashlib.sha256(content).hexdigest()
    relative = relative_path(sha256)
    final = root() / relative
    if final.exists() and _opens(final, sha256):
        # A new row is about to reference the file: refresh its age, because the orphan
        # sweep (hpf.materials.jobs) spares only files younger than a day that no row names.
        try:
            os.utime(final)
            return sha256, relative
        except FileNotFoundError:  # swept in between: write it anew below
            pass
    final.parent.mkdir(parents=True, exist_ok=True)
    sealed = field_cipher().encrypt_bytes(content, _context(sha256))
    temporary = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(sealed)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(final.parent)
    return sha256, relative


def read(relative: str, sha256: str, *, base: Path | None = None) -> bytes:
    """The plaintext of a stored file, checked against its digest; 503 MATERIAL_UNREADABLE if
    the file is gone, damaged or sealed under another key. `base` replaces root() (a backup
    being verified is read from its scratch copy)."""
    path = (base or root()) / relative
    try:
        content = field_cipher().decrypt_bytes(path.read_bytes(), _context(sha256))
    except (OSError, ValueError):
        content = None
    if content is None or hashlib.sha256(content).hexdigest() != sha256:
        raise UpstreamUnavailable("材料文件无法读取，请联系系统管理员",
                                  code="MATERIAL_UNREADABLE")
    return content


def _opens(path: Path, sha256: str) -> bool:
    """True when an existing file decrypts to the expected content (else it is rewritten)."""
    try:
        content = field_cipher().decrypt_bytes(path.read_bytes(), _context(sha256))
    except (OSError, ValueError):
        return False
    return hashlib.sha256(content).hexdigest() == sha256


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX: the directory entry must be flushed too)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
