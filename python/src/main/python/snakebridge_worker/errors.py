"""Structured errors. Every error the worker reports carries a stable ``code`` (PROTOCOL.md ERR-*);
no client ever has to match on message text."""
import builtins
import os
import traceback

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_MAX_CAUSE_DEPTH = 8
_MAX_FRAMES = 64


class BridgeError(Exception):
    """An error with a protocol code and structured details (ref id, reason, limit, ...)."""

    def __init__(self, code, message, **details):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def ref_not_found(ref_id, session_id, reason):
    return BridgeError("ref_not_found", f"ref {ref_id} not found in session {session_id}: {reason}",
                       ref_id=ref_id, session_id=session_id, reason=reason)


_memory_note = ""  # said with every MemoryError once an address-space limit is in force


def memory_limit_in_force(limit, by_server):
    """This worker's address space is capped at ``limit`` bytes, by its worker server's
    ``--memory-limit`` or by its client's memoryLimitBytes: a MemoryError says which, since raising
    the client's setting does not help against the server's (REMOTE-6)."""
    global _memory_note
    whose = ("the worker server's --memory-limit, which no client can raise" if by_server
             else "the client's memoryLimitBytes")
    _memory_note = f" (this worker's address space is limited to {limit} bytes by {whose})"


def to_wire(exc):
    """The error object of a response for any exception."""
    if isinstance(exc, BridgeError):
        error = {"code": exc.code, "message": exc.message}
        if exc.details:
            error["details"] = exc.details
        return error
    return _python_exception(exc, 0)


def _python_exception(exc, depth):
    frames = _frames(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename:
        # Where the user's code is wrong, not only the importlib frames that compiled it.
        frames.append({"file": exc.filename, "line": exc.lineno or 0, "function": "<module>",
                       "text": (exc.text or "").strip()})
    error = {
        "code": "python_exception",
        "type": _type_name(type(exc)),
        "message": str(exc) + _memory_note if isinstance(exc, MemoryError) else str(exc),
        "traceback": frames,
    }
    attributes = _attributes(exc)
    if attributes:
        error["attributes"] = attributes  # ERR-3
    java_error_id = getattr(exc, "java_error_id", None)
    if java_error_id is not None:
        error["java_error_id"] = java_error_id  # the Java exception a callback threw (CB-3)
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if cause is not None and depth < _MAX_CAUSE_DEPTH:
        error["cause"] = _python_exception(cause, depth + 1)
    if _GROUP is not None and isinstance(exc, _GROUP) and depth < _MAX_CAUSE_DEPTH:
        error["exceptions"] = [_python_exception(member, depth + 1) for member in exc.exceptions[:_MAX_MEMBERS]]  # ERR-3
    return error


_GROUP = getattr(builtins, "BaseExceptionGroup", None)  # Python 3.11 and later
_MAX_MEMBERS = 64
_MAX_ATTRIBUTES = 32
_MAX_TEXT = 4096
_BASE_NAMES = frozenset(dir(BaseException)) - {"args"}


def _attributes(exc):
    """The exception's public data attributes that are plain JSON values (ERR-3): ``args``, ``errno``,
    ``filename``, ``lineno``, a user exception's own fields. Anything else stays out: an error object
    makes no refs. Reading one may run user code (a property); one that fails is left out."""
    found = {}
    for name in dir(exc):
        if name.startswith("_") or name in _BASE_NAMES or len(found) >= _MAX_ATTRIBUTES:
            continue
        try:
            value = getattr(exc, name)
        except Exception:
            continue
        plain = _plain(value, 0)
        if plain is not _NOT_PLAIN:
            found[name] = plain
    return found


_NOT_PLAIN = object()


def _plain(value, depth):
    """``value`` as plain JSON (a list for a tuple), or _NOT_PLAIN."""
    cls = type(value)
    if value is None or cls is bool or cls is str and len(value) <= _MAX_TEXT:
        return value
    if cls is int and -(1 << 63) <= value < (1 << 63):
        return value
    if cls is float and value - value == 0:
        return value
    if (cls is list or cls is tuple) and depth < 2 and len(value) <= _MAX_ATTRIBUTES:
        items = [_plain(item, depth + 1) for item in value]
        return _NOT_PLAIN if any(item is _NOT_PLAIN for item in items) else items
    return _NOT_PLAIN


def _type_name(cls):
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _frames(tb):
    frames = []
    for frame in traceback.extract_tb(tb)[-_MAX_FRAMES:]:
        # The worker's own dispatch frames say nothing about the user's problem.
        if os.path.dirname(os.path.abspath(frame.filename)) == _PACKAGE_DIR:
            continue
        frames.append({"file": frame.filename, "line": frame.lineno, "function": frame.name,
                       "text": frame.line or ""})
    return frames
