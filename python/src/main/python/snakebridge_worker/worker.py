"""The Worker: what this process tracks while it handles requests. The requests in flight, innermost
last (a callback nests the requests the client sends meanwhile), the SIGINT gate that lets a cancel
interrupt the user code of the request it targets and nothing else, and the encoders and decoders
the ops work with."""
import contextlib
import signal
import sys

from . import DEFAULTS
from .callbacks import Callback
from .decoder import Decoder
from .encoder import Encoder
from .errors import BridgeError
from .fields import ref_ids
from .ops import OPS

_LIMITS = ("max_frame_bytes", "max_nesting_depth", "max_int_digits", "max_string_length", "max_attachments",
           "max_response_bytes", "max_response_elements")


class Worker:
    """Executes requests for every session that this process serves."""

    def __init__(self, registry, worker_id, defaults=DEFAULTS, cancel_word=None):
        self.registry = registry
        self.worker_id = worker_id
        self.defaults = defaults
        self.limits = {}
        self.surely_fits = 0  # set with the limits
        self.adopt_limits({k: defaults[k] for k in _LIMITS})
        self.attachment_min = None  # set at the handshake if the client reads attachments (ATT-1)
        self.lean = False  # set at the handshake if the client speaks the lean encoding (LEAN-1)
        self._requests = []  # the requests being handled, innermost last (callbacks nest them)
        self.handshaken = False
        self.interruptible = False  # True only while user code runs: SIGINT raises KeyboardInterrupt there
        self.cancel_word = cancel_word  # names the request each SIGINT targets (CANCEL-2); None: the one in flight
        self._latest_id = 0  # the id of the latest request started: a target above it has not started yet
        self._pending_cancel = None  # the id of a request a SIGINT targeted when it could not be raised there
        self.last_result_refs = None  # (session id, ref ids) of the latest encoded result
        self.server = None  # set by the Server; callbacks talk to the client through it

    # -- requests ---------------------------------------------------------------------------------
    def handle(self, request, attachments=()):
        """Returns (result, attachments of the response) of one request, or raises; ``request``
        is a decoded JSON object and ``attachments`` the frames that followed it. Callbacks that
        arrived with the request die when it ends (CB-4)."""
        state = RequestState(request["id"], attachments)
        self._requests.append(state)
        self._latest_id = state.id
        try:
            return self._dispatch(request), state.attachments_out
        finally:
            self._requests.pop()
            if self._pending_cancel == state.id:
                self._pending_cancel = None  # it answered: a cancel it never reached is dropped (CANCEL-3)
            for callback in state.callbacks:
                callback.live = False

    def _dispatch(self, request):
        """Checks the envelope (op, handshake first, session id), then runs the op."""
        self.last_result_refs = None
        op = request.get("op")
        # "in", not OPS.get(op): CPython 3.11 calls a method of an imported name through a new bound method.
        if type(op) is not str or op not in OPS:
            raise BridgeError("protocol", f"unknown op {op!r}; known ops: {', '.join(sorted(OPS))}")
        handler = OPS[op]
        if not self.handshaken and op != "handshake":
            raise BridgeError("protocol", "the first request must be a handshake")
        if handler.session_scoped:
            session_id = request.get("session_id")
            if type(session_id) is not str or not session_id:
                raise BridgeError("protocol", f"op {op!r} needs a non-empty string session_id")
            release = request.get("release")
            if release:
                # Ids the client's GC backstop enqueued ride on the next request: no extra round trip.
                self.registry.release(session_id, ref_ids(release, "release"), strict=False)
            self.registry.expire_all()
            return handler(self, request, session_id)
        return handler(self, request)

    def current_request(self):
        return self._requests[-1]

    def new_callback(self, session_id, callback_id, arity, exported=False):
        """A Java callback that arrived in the current request, and dies with it (CB-4); an exported
        one lives on, callable while any later request runs user code (CB-6)."""
        if type(callback_id) is not str or not callback_id or type(arity) is not int:
            raise BridgeError("invalid_value", "a callback needs a string ref_id and an integer arity")
        if not self._requests:
            raise BridgeError("invalid_value", "a callback can only arrive with a request")
        callback = Callback(self, session_id, callback_id, arity, exported)
        if not exported:
            self._requests[-1].callbacks.append(callback)
        return callback

    def adopt_limits(self, limits):
        """Limits for the rest of the connection: the defaults, then the client's (HS-5). Python's own
        guard on int/str conversions follows max_int_digits."""
        self.limits.update(limits)
        # A message shorter than this and without attachments is within every size cap (a JSON value takes
        # at least one byte), so the server checks only longer ones: small responses pay one comparison.
        self.surely_fits = min(self.limits["max_frame_bytes"], self.limits["max_response_bytes"],
                               self.limits["max_response_elements"])
        if hasattr(sys, "set_int_max_str_digits"):
            sys.set_int_max_str_digits(self.limits["max_int_digits"])

    # -- the SIGINT gate: a cancel interrupts the user code of its target only ----------------------
    def install_sigint_handler(self):
        """SIGINT (the driver's cancel) raises KeyboardInterrupt inside the user code of the request it
        targets (CANCEL-3) and never elsewhere: a late cancel must never tear a frame or the registry,
        nor interrupt the request pipelined behind the one it was meant for."""
        signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum, frame):
        requests = self._requests
        if self.cancel_word is None:  # an untargeted SIGINT is for the request in flight, if any (CANCEL-1)
            if not requests:
                return
            target = requests[-1].id
        else:
            target = self.cancel_word.target()
            self.cancel_word.took(target)
        if requests and requests[-1].id == target and self.interruptible:
            raise KeyboardInterrupt
        if target > self._latest_id or any(request.id == target for request in requests):
            # Not started yet, in the worker's own work, or awaiting a callback: raised as soon as its
            # user code runs (CB-5). A target that has answered is dropped.
            self._pending_cancel = target

    def _raise_pending_cancel(self):
        if self._requests and self._pending_cancel == self._requests[-1].id:
            self._pending_cancel = None
            raise KeyboardInterrupt

    def run_user_code(self, fn, *args, **kwargs):
        """Runs ``fn`` where a cancel (SIGINT) may interrupt: resolving names (imports), the call
        itself, attribute access. The worker's own bookkeeping and framing are never interrupted.
        (A plain function, not a context manager: it is on every request's path.)"""
        outer = self.interruptible
        try:
            self.interruptible = True  # before the check: a SIGINT after it raises in fn, one before is pending
            if self._pending_cancel is not None:
                self._raise_pending_cancel()
            return fn(*args, **kwargs)
        finally:
            self.interruptible = outer

    @contextlib.contextmanager
    def uninterruptible(self):
        """The worker's own work inside user code (a callback's frames): not interruptible, but a
        SIGINT that comes meanwhile is raised as soon as user code resumes, so no cancel is lost."""
        outer = self.interruptible
        self.interruptible = False
        try:
            yield
        finally:
            self.interruptible = outer
        if outer and self._pending_cancel is not None:
            self._raise_pending_cancel()

    # -- values -------------------------------------------------------------------------------------
    def decoder(self, session_id, attachments=None):
        """Decodes values of the request being handled (its attachments and, in a batch, its
        promises), or of a callback reply's ``attachments``."""
        request = self._requests[-1] if self._requests else RequestState(None, ())
        return Decoder(self.registry, session_id, self.worker_id, self.limits["max_nesting_depth"],
                       lambda callback_id, arity, exported: self.new_callback(session_id, callback_id, arity, exported),
                       request.attachments_in if attachments is None else attachments,
                       request.promises if attachments is None else None, self.limits["max_string_length"])

    def encoder(self, session_id, attachments=None):
        """Encodes into ``attachments``, or into those of the response being built."""
        if attachments is None:
            attachments = self._requests[-1].attachments_out if self._requests else []
        return Encoder(self.registry, session_id, self.worker_id, self.limits["max_nesting_depth"], self.attachment_min,
                       attachments, self.limits["max_string_length"], self.limits["max_response_elements"],
                       self.registry.policy(session_id))

    def encode_result(self, session_id, value, want):
        """An op's result as the response carries it, in the form ``want`` asks; remembers the
        refs it made (``last_result_refs``) and, in a batch, the value itself for later promises.
        Under a module policy the value must be within it however it travels: as a ref, or as a
        promise that a later call of a batch passes on (POL-3)."""
        self.registry.policy(session_id).check_object(value)
        if self._requests:
            self._requests[-1].value = value  # a later call of a batch may use it (promise)
        if want == "none":
            return None
        cls = type(value)
        if want == "value" and ((cls is str and len(value) <= self.limits["max_string_length"])
                                or cls is int or cls is bool or value is None
                                or (cls is float and value - value == 0)):  # finite floats only
            self.last_result_refs = None
            return value  # a scalar is its own encoding: no encoder needed
        encoder = self.encoder(session_id)
        self.last_result_refs = (session_id, encoder.new_ref_ids)
        try:
            if want == "ref":
                return encoder.ref(value)
            if want == "array":
                return encoder.array(value)
            return encoder.encode(value)
        except BaseException:
            self.rollback_last_result()
            raise

    def rollback_last_result(self):
        """Forgets the refs of a result that never reached the client."""
        if self.last_result_refs is not None:
            session_id, new_ref_ids = self.last_result_refs
            self.registry.discard(session_id, new_ref_ids)
            self.last_result_refs = None


class RequestState:
    """What the worker tracks for one request while it is handled."""

    __slots__ = ("id", "attachments_in", "attachments_out", "callbacks", "promises", "value")

    def __init__(self, request_id, attachments_in):
        self.id = request_id  # what a targeted cancel names (CANCEL-3)
        self.attachments_in = attachments_in  # the attachment frames it brought (ATT-1)
        self.attachments_out = []  # the attachments its response carries
        self.callbacks = []  # the callbacks it brought (CB-4)
        self.promises = None  # in a batch: the Python result of each earlier call (BATCH-2)
        self.value = None  # the Python object its op produced, before encoding
