"""The cancel word (PROTOCOL.md CANCEL-2): 16 bytes of a file the client made for this worker, mapped
shared, through which a SIGINT names the request it cancels. A signal carries no data, so whoever
sends one first writes its target here: bytes 0-7 hold that request id; in bytes 8-15 the worker
writes the target of each SIGINT it has taken, so a client (or a test) can see that it has."""
import mmap
import os
import stat
import struct
import sys

ENVIRONMENT_VARIABLE = "SNAKEBRIDGE_CANCEL_WORD"
SIZE = 16
_ID = struct.Struct("<q")
ID_MIN, ID_MAX = -(1 << 63), (1 << 63) - 1  # the request ids a word can name


class CancelWord:
    __slots__ = ("_map",)

    def __init__(self, mapping):
        self._map = mapping

    def target(self):
        """The id of the request the latest SIGINT targets (0 until the client names one)."""
        return _ID.unpack_from(self._map, 0)[0]

    def took(self, target):
        _ID.pack_into(self._map, 8, target)

    def close(self):
        self._map.close()

    def aim(self, target):
        """Names the request the next SIGINT targets: what a client (or a server, for a remote client's
        worker) writes just before it signals."""
        _ID.pack_into(self._map, 0, target)


def open_word(path):
    """The cancel word in the file at ``path``, which is unlinked once mapped (it was made for this
    worker alone, and the client may be gone before it could remove it); None, with a line on stderr
    saying why, if it cannot be used: every SIGINT is then untargeted (CANCEL-1)."""
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            opened = os.fstat(fd)
            # Made for this worker alone: a file of another user, or one with another name too (a hard
            # link), is not a word; the worker would write into it and then remove a name of it.
            if not stat.S_ISREG(opened.st_mode) or opened.st_size != SIZE:
                raise ValueError(f"it is not a regular file of {SIZE} bytes")
            if opened.st_uid != os.geteuid() or opened.st_nlink != 1:
                raise ValueError("it is not this user's file alone (owner or links)")
            mapping = mmap.mmap(fd, SIZE)
        finally:
            os.close(fd)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"snakebridge_worker: cannot use the cancel word {path!r} ({exc}); "
                         "a SIGINT will interrupt whatever request runs\n")
        return None
    try:
        named = os.stat(path, follow_symlinks=False)
        if (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino):  # still the file mapped, not a newcomer
            os.unlink(path)
    except OSError:
        pass  # the client removed it already
    return CancelWord(mapping)


def from_environment():
    """The cancel word a client that spawned this worker named, if any; the variable is removed, so
    user code and the processes it starts never see it."""
    path = os.environ.pop(ENVIRONMENT_VARIABLE, None)
    return open_word(path) if path else None
