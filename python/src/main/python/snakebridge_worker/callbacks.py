"""Java functions handed to Python (PROTOCOL.md CB-*), and the exception a failing one raises."""


class Callback:
    """A Java function handed to Python: calling it runs it in the JVM, on the thread that made the
    outer call, while that call waits. It lives only as long as the request that brought it (CB-4)."""

    __slots__ = ("_worker", "session_id", "callback_id", "arity", "live", "exported")

    def __init__(self, worker, session_id, callback_id, arity, exported=False):
        self._worker = worker
        self.session_id = session_id
        self.callback_id = callback_id
        self.arity = arity  # -1: any number of arguments
        self.live = True
        self.exported = exported  # lives on after its request (CB-6); the client ends it

    def __call__(self, *args, **kwargs):
        if not self.live:
            raise RuntimeError(f"Java callback {self.callback_id} was passed to a call that has returned; "
                               "a callback can only be called while the call it was passed to runs")
        if self.exported and not self._worker.interruptible:
            # Only user code of a request may call the client: it is waiting for that request's answer.
            raise RuntimeError(f"exported Java callback {self.callback_id} can only be called while a request "
                               "of its connection runs Python code")
        if self.arity >= 0 and len(args) + len(kwargs) != self.arity:
            raise TypeError(f"Java callback {self.callback_id} takes {self.arity} argument(s), got {len(args) + len(kwargs)}")
        return self._worker.server.call_back(self, args, kwargs)

    def __repr__(self):
        return f"<Java callback {self.callback_id}{'' if self.live else ' (expired)'}>"


class CallbackError(Exception):
    """The Java callback threw. Python code may catch it; uncaught, it reaches the Java caller with
    the original Java exception as its cause."""

    def __init__(self, java_type, message, java_error_id):
        super().__init__(f"{java_type}: {message}")
        self.java_type = java_type
        self.java_error_id = java_error_id
