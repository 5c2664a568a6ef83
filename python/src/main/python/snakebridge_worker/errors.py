"""Structured errors. Every error the worker reports carries a stable ``code`` (PROTOCOL.md ERR-*);
no client ever has to match on message text."""
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


def to_wire(exc):
    """The error object of a response for any exception."""
    if isinstance(exc, BridgeError):
        error = {"code": exc.code, "message": exc.message}
        if exc.details:
            error["details"] = exc.details
        return error
    return _python_exception(exc, 0)


def _python_exception(exc, depth):
    error = {
        "code": "python_exception",
        "type": _type_name(type(exc)),
        "message": str(exc),
        "traceback": _frames(exc.__traceback__),
    }
    java_error_id = getattr(exc, "java_error_id", None)
    if java_error_id is not None:
        error["java_error_id"] = java_error_id  # the Java exception a callback threw (CB-3)
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if cause is not None and depth < _MAX_CAUSE_DEPTH:
        error["cause"] = _python_exception(cause, depth + 1)
    return error


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
