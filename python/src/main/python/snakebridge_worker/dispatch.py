"""The ops (PROTOCOL.md section "Operations"): one function per op, looked up by name."""
import builtins
import collections.abc
import contextlib
import importlib
import itertools
import os
import sys
from types import ModuleType

from . import DEFAULTS, MIN_SUPPORTED_VERSION, PROTOCOL_VERSION
from .decoder import Decoder, Failed
from .encoder import Encoder
from .errors import BridgeError, to_wire
from .server import CallbackError, StreamBroken

CAPABILITIES = ["refs", "stream_refs", "batch_release", "session_limits", "ref_ttl", "tombstones", "cancel", "callbacks",
                "module_policy", "attachments", "arrays", "object_protocol", "batch"]
_WANTS = ("value", "ref", "array", "none")
_LIMITS = ("max_frame_bytes", "max_nesting_depth", "max_int_digits", "max_string_length", "max_attachments")
# Limits a client may set at the handshake (HS-5), with the ranges the worker accepts: [low, high].
_NEGOTIABLE = DEFAULTS["negotiable_limits"]


class Worker:
    """Executes requests for every session that this process serves."""

    def __init__(self, registry, worker_id, defaults=DEFAULTS):
        self.registry = registry
        self.worker_id = worker_id
        self.defaults = defaults
        self.limits = {}
        self.adopt_limits({k: defaults[k] for k in _LIMITS})
        self.attachment_min = None  # set at the handshake if the client reads attachments (ATT-1)
        self._requests = []  # the requests being handled, innermost last (callbacks nest them)
        self.handshaken = False
        self.interruptible = False  # True only while user code runs: SIGINT raises KeyboardInterrupt there
        self._interrupt_pending = False  # a SIGINT that came while a callback's frames were in flight
        self._framework_depth = 0
        self.last_result_refs = None  # (session id, ref ids) of the latest encoded result
        self.server = None  # set by the Server; callbacks talk to the client through it

    def handle(self, request, attachments=()):
        """Returns (result, attachments of the response) of one request, or raises; ``request``
        is a decoded JSON object and ``attachments`` the frames that followed it. Callbacks that
        arrived with the request die when it ends (CB-4)."""
        state = _Request(attachments)
        self._requests.append(state)
        try:
            return self._handle(request), state.attachments_out
        finally:
            self._requests.pop()
            for callback in state.callbacks:
                callback.live = False

    def _handle(self, request):
        self.last_result_refs = None
        op = request.get("op")
        handler = _OPS.get(op) if type(op) is str else None
        if handler is None:
            raise BridgeError("protocol", f"unknown op {op!r}; known ops: {', '.join(sorted(_OPS))}")
        if not self.handshaken and op != "handshake":
            raise BridgeError("protocol", "the first request must be a handshake")
        if handler.session_scoped:
            session_id = request.get("session_id")
            if type(session_id) is not str or not session_id:
                raise BridgeError("protocol", f"op {op!r} needs a non-empty string session_id")
            release = request.get("release")
            if release:
                # Ids the client's GC backstop enqueued ride on the next request: no extra round trip.
                self.registry.release(session_id, _string_list(release, "release"), strict=False)
            self.registry.expire_all()
            return handler(self, request, session_id)
        return handler(self, request)

    def run_user_code(self, fn, *args, **kwargs):
        """Runs ``fn`` where a cancel (SIGINT) may interrupt: resolving names (imports), the call
        itself, attribute access. The worker's own bookkeeping and framing are never interrupted.
        (A plain function, not a context manager: it is on every request's path.)"""
        outer = self.interruptible
        self.interruptible = True
        try:
            return fn(*args, **kwargs)
        finally:
            self.interruptible = outer

    @contextlib.contextmanager
    def framework_code(self):
        """The worker's own work inside user code (a callback's frames): not interruptible, but a
        SIGINT that comes meanwhile is raised as soon as user code resumes, so no cancel is lost."""
        outer = self.interruptible
        self.interruptible = False
        self._framework_depth += 1
        try:
            yield
        finally:
            self._framework_depth -= 1
            self.interruptible = outer
        if outer and self._interrupt_pending:
            self._interrupt_pending = False
            raise KeyboardInterrupt

    def note_interrupt(self):
        """A SIGINT outside user code: remembered only while a callback's frames are in flight."""
        if self._framework_depth:
            self._interrupt_pending = True

    def new_callback(self, session_id, callback_id, arity):
        if type(callback_id) is not str or not callback_id or type(arity) is not int:
            raise BridgeError("invalid_value", "a callback needs a string ref_id and an integer arity")
        if not self._requests:
            raise BridgeError("invalid_value", "a callback can only arrive with a request")
        callback = Callback(self, session_id, callback_id, arity)
        self._requests[-1].callbacks.append(callback)
        return callback

    # -- helpers shared by the ops ------------------------------------------------------------
    def decoder(self, session_id, attachments=None):
        """Decodes values of the request being handled (its attachments and, in a batch, its
        promises), or of a callback reply's ``attachments``."""
        request = self._requests[-1] if self._requests else _Request(())
        return Decoder(self.registry, session_id, self.worker_id, self.limits["max_nesting_depth"],
                       lambda callback_id, arity: self.new_callback(session_id, callback_id, arity),
                       request.attachments_in if attachments is None else attachments,
                       request.promises if attachments is None else None, self.limits["max_string_length"])

    def adopt_limits(self, limits):
        """Limits for the rest of the connection: the defaults, then the client's (HS-5). Python's own
        guard on int/str conversions follows max_int_digits."""
        self.limits.update(limits)
        if hasattr(sys, "set_int_max_str_digits"):
            sys.set_int_max_str_digits(self.limits["max_int_digits"])

    def current_request(self):
        return self._requests[-1]

    def encoder(self, session_id, attachments=None):
        """Encodes into ``attachments``, or into those of the response being built."""
        if attachments is None:
            attachments = self._requests[-1].attachments_out if self._requests else []
        return Encoder(self.registry, session_id, self.worker_id, self.limits["max_nesting_depth"], self.attachment_min,
                       attachments, self.limits["max_string_length"])

    def respond(self, session_id, value, want):
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
            session_id, ref_ids = self.last_result_refs
            self.registry.discard(session_id, ref_ids)
            self.last_result_refs = None

    def target(self, request, session_id):
        """The object an op acts on: a ref (or, in a batch, a promise) in ``object``; None means the
        op names a global instead."""
        obj = request.get("object")
        if obj is None:
            return None
        decoder = self.decoder(session_id)
        if type(obj) is dict and obj.get("__type__") == "promise":
            return decoder.decode(obj)
        return decoder.resolve_ref(obj)


class _Request:
    """What the worker tracks for one request while it is handled."""

    __slots__ = ("attachments_in", "attachments_out", "callbacks", "promises", "value")

    def __init__(self, attachments_in):
        self.attachments_in = attachments_in  # the attachment frames it brought (ATT-1)
        self.attachments_out = []  # the attachments its response carries
        self.callbacks = []  # the callbacks it brought (CB-4)
        self.promises = None  # in a batch: the Python result of each call so far (BATCH-2)
        self.value = None  # the Python object its op produced, before encoding


class Callback:
    """A Java function handed to Python (PROTOCOL.md CB-*): calling it runs it in the JVM, on the
    thread that made the outer call, while that call waits."""

    __slots__ = ("_worker", "session_id", "callback_id", "arity", "live")

    def __init__(self, worker, session_id, callback_id, arity):
        self._worker = worker
        self.session_id = session_id
        self.callback_id = callback_id
        self.arity = arity  # -1: any number of arguments
        self.live = True

    def __call__(self, *args, **kwargs):
        if not self.live:
            raise RuntimeError(f"Java callback {self.callback_id} was passed to a call that has returned; "
                               "a callback can only be called while the call it was passed to runs")
        if self.arity >= 0 and len(args) + len(kwargs) != self.arity:
            raise TypeError(f"Java callback {self.callback_id} takes {self.arity} argument(s), got {len(args) + len(kwargs)}")
        return self._worker.server.call_back(self, args, kwargs)

    def __repr__(self):
        return f"<Java callback {self.callback_id}{'' if self.live else ' (expired)'}>"


def _op(session_scoped=True):
    def register(fn):
        fn.session_scoped = session_scoped
        _OPS[fn.__name__.lstrip("_")] = fn
        return fn
    return register


_OPS = {}
_BUILTINS = builtins.__dict__


@_op(session_scoped=False)
def handshake(worker, request):
    client_max = request.get("protocol_version")
    client_min = request.get("min_supported_version", client_max)
    if type(client_max) is not int or type(client_min) is not int:
        raise BridgeError("protocol", "handshake needs integer protocol_version and min_supported_version")
    agreed = min(client_max, PROTOCOL_VERSION)
    if agreed < max(client_min, MIN_SUPPORTED_VERSION):
        raise BridgeError("unsupported_version",
                          f"client speaks versions {client_min}..{client_max}, this worker {MIN_SUPPORTED_VERSION}..{PROTOCOL_VERSION}",
                          protocol_version=PROTOCOL_VERSION, min_supported_version=MIN_SUPPORTED_VERSION)
    client_capabilities = request.get("client_capabilities", [])
    if type(client_capabilities) is not list:
        raise BridgeError("protocol", "client_capabilities must be a list of strings")
    limits = request.get("limits", {})
    if type(limits) is not dict:
        raise BridgeError("protocol", "handshake limits must be an object")
    for name, value in limits.items():
        if name not in _NEGOTIABLE:
            raise BridgeError("invalid_argument", f"unknown limit {name!r}; a client may set {', '.join(_NEGOTIABLE)}")
        low, high = _NEGOTIABLE[name]
        if type(value) is not int or not low <= value <= high:
            raise BridgeError("invalid_argument", f"{name} must be an integer from {low} to {high}, got {value!r}")
    worker.adopt_limits(limits)
    if "attachments" in client_capabilities:
        worker.attachment_min = worker.defaults["attachment_min_bytes"]
    worker.handshaken = True
    return {
        "protocol_version": agreed,
        "min_supported_version": MIN_SUPPORTED_VERSION,
        "worker_id": worker.worker_id,
        "pid": os.getpid(),
        "python_version": ".".join(map(str, sys.version_info[:3])),
        "implementation": sys.implementation.name,
        "capabilities": CAPABILITIES,
        "defaults": {k: worker.defaults[k] for k in ("max_refs", "ref_limit_policy", "ref_ttl_seconds")},
        "limits": dict(worker.limits),
    }


@_op(session_scoped=False)
def ping(worker, request):
    return "pong"


@_op()
def call(worker, request, session_id):
    target, name = worker.target(request, session_id), _name(request, "function")
    args, kwargs = _arguments(worker, request, session_id)
    result = worker.run_user_code(_invoke, target, name, worker.registry.policy(session_id), args, kwargs)
    return worker.respond(session_id, result, _want(request))


@_op()
def call_method(worker, request, session_id):
    if request.get("object") is None:
        raise BridgeError("protocol", "call_method needs an object (a ref)")
    target, name = worker.target(request, session_id), _name(request, "method")
    args, kwargs = _arguments(worker, request, session_id)
    result = worker.run_user_code(_invoke, target, name, worker.registry.policy(session_id), args, kwargs)
    return worker.respond(session_id, result, _want(request))


@_op()
def get_attr(worker, request, session_id):
    target, name = worker.target(request, session_id), _name(request, "name")
    value = worker.run_user_code(_member, target, name, worker.registry.policy(session_id))
    return worker.respond(session_id, value, _want(request))


@_op()
def get(worker, request, session_id):
    """The object in ``object`` itself, encoded as ``want`` asks: turns a ref into its value or its
    array data (RefHandle.toArray) in one round trip."""
    if request.get("object") is None:
        raise BridgeError("protocol", "get needs an object (a ref)")
    return worker.respond(session_id, worker.target(request, session_id), _want(request))


def _exit(obj, *java_exception):
    """``with``'s exit: no arguments for a clean exit, or the (type, message) of the Java exception
    that left the block, which __exit__ sees as a CallbackError. True if __exit__ suppressed it."""
    if not java_exception:
        return bool(type(obj).__exit__(obj, None, None, None))
    java_type, message = java_exception
    exc = CallbackError(str(java_type), str(message), None)
    return bool(type(obj).__exit__(obj, CallbackError, exc, None))


def _setitem(obj, key, value):
    obj[key] = value


def _delitem(obj, key):
    del obj[key]


# The object protocols (OP-APPLY-1): action -> (function of the object and the args, arg count; None: checked apart).
_ACTIONS = {
    "len": (len, 0), "contains": (lambda obj, item: item in obj, 1), "repr": (repr, 0), "str": (str, 0),
    "getitem": (lambda obj, key: obj[key], 1), "setitem": (_setitem, 2), "delitem": (_delitem, 1),
    "enter": (lambda obj: type(obj).__enter__(obj), 0), "exit": (_exit, None),
}


@_op()
def apply(worker, request, session_id):
    """A Python protocol on the object in ``object``: len, contains, item access, repr/str, and a
    context manager's enter/exit. Special methods are looked up on the type, as Python does."""
    if request.get("object") is None:
        raise BridgeError("protocol", "apply needs an object (a ref)")
    action = request.get("action")
    if action not in _ACTIONS:
        raise BridgeError("protocol", f"action must be one of {', '.join(_ACTIONS)}, got {action!r}")
    fn, arity = _ACTIONS[action]
    args, _ = _arguments(worker, request, session_id)
    if arity is not None and len(args) != arity:
        raise BridgeError("protocol", f"action {action!r} takes {arity} argument(s), got {len(args)}")
    if action == "exit" and len(args) not in (0, 2):
        raise BridgeError("protocol", "action 'exit' takes no arguments or a Java exception's [type, message]")
    target = worker.target(request, session_id)
    policy = worker.registry.policy(session_id)
    policy.check_object(target)
    result = worker.run_user_code(fn, target, *args)
    policy.check_object(result)
    return worker.respond(session_id, result, _want(request))


@_op()
def set_attr(worker, request, session_id):
    name = _name(request, "name")
    owner_path, _, attr = name.rpartition(".")
    owner = worker.target(request, session_id)
    if not owner_path and owner is None:
        raise BridgeError("invalid_argument", f"set_attr of {name!r} needs an object or a dotted name with an owner")
    if "value" not in request:
        raise BridgeError("protocol", "set_attr needs a value")
    value = worker.decoder(session_id).decode(request["value"])
    worker.run_user_code(_set, owner, owner_path, attr, value, worker.registry.policy(session_id))
    return None


def _set(owner, owner_path, attr, value, policy):
    if owner_path:
        owner = _member(owner, owner_path, policy)
    else:
        policy.check_object(owner)
    policy.check_attribute(attr)
    setattr(owner, attr, value)


def _invoke(target, name, policy, args, kwargs):
    return _member(target, name, policy)(*args, **kwargs)


_MAX_FETCH = 1 << 20


@_op()
def stream_next(worker, request, session_id):
    """The next batch of at most max_items items of an iterator ref: one round trip per batch."""
    if request.get("object") is None:
        raise BridgeError("protocol", "stream_next needs an object (an iterator ref)")
    iterator = worker.target(request, session_id)
    max_items = request.get("max_items")
    if type(max_items) is not int or not 1 <= max_items <= _MAX_FETCH:
        raise BridgeError("protocol", f"max_items must be an integer from 1 to {_MAX_FETCH}, got {max_items!r}")
    if not isinstance(iterator, collections.abc.Iterator):
        raise BridgeError("invalid_argument", f"stream_next needs an iterator, got {type(iterator).__name__}; "
                                              "call iter() on it first")
    items, failure = worker.run_user_code(_take, iterator, max_items)
    reply = {"items": worker.respond(session_id, items, "value"), "done": failure is not None or len(items) < max_items}
    if failure is not None:
        reply["error"] = to_wire(failure)  # after the items it produced first: nothing is lost
    return reply


def _take(iterator, count):
    """Up to ``count`` items, and the exception that ended the iterator after at least one item."""
    items = []
    try:
        for item in itertools.islice(iterator, count):
            items.append(item)
    except Exception as exc:
        if not items:
            raise
        return items, exc
    return items, None


_BATCHABLE = ("call", "call_method", "get_attr", "set_attr", "get", "apply")


@_op()
def batch(worker, request, session_id):
    """Runs ``calls`` in order in one round trip (BATCH-*). A later call may use an earlier one's
    Python result through a promise; each call gets its own result or error, and a call whose
    promise failed fails with dependency_failed while the others still run."""
    calls = request.get("calls")
    if type(calls) is not list or not all(type(c) is dict for c in calls):
        raise BridgeError("protocol", "batch needs calls: a list of objects")
    state = worker.current_request()
    state.promises = promises = []
    values, errors, made_refs = [], {}, []
    try:
        for index, call in enumerate(calls):
            state.value = None
            worker.last_result_refs = None
            try:
                op = call.get("op")
                if op not in _BATCHABLE:
                    raise BridgeError("protocol", f"a batch call's op must be one of {', '.join(_BATCHABLE)}, got {op!r}")
                result = _OPS[op](worker, call, session_id)
                if worker.last_result_refs:
                    made_refs.extend(worker.last_result_refs[1])
                promises.append(state.value)
                values.append(result)
            except (KeyboardInterrupt, StreamBroken):
                raise  # a cancel ends the whole batch
            except Exception as exc:
                if isinstance(exc, RecursionError):
                    exc = BridgeError("invalid_value", f"value nests too deeply: {exc}")
                promises.append(Failed(index))
                values.append(None)
                errors[str(index)] = to_wire(exc)
    except BaseException:
        worker.registry.discard(session_id, made_refs)  # the client never sees these results
        raise
    worker.last_result_refs = (session_id, made_refs)
    return {"values": values, "errors": errors}


@_op()
def release_ref(worker, request, session_id):
    return worker.registry.release(session_id, _string_list(request.get("ids"), "ids"))


@_op()
def release_session(worker, request, session_id):
    return worker.registry.release_session(session_id)


@_op()
def reset_session(worker, request, session_id):
    new_session_id = request.get("new_session_id")
    if type(new_session_id) is not str or not new_session_id:
        raise BridgeError("protocol", "reset_session needs a non-empty string new_session_id")
    return worker.registry.reset_session(session_id, new_session_id)


@_op()
def open_session(worker, request, session_id):
    limits = request.get("limits", {})
    if type(limits) is not dict:
        raise BridgeError("protocol", "open_session limits must be an object")
    return worker.registry.open_session(session_id, limits, request.get("policy"))


@_op()
def session_info(worker, request, session_id):
    return worker.registry.session_info(session_id)


# -- request fields ---------------------------------------------------------------------------
_VALID_NAMES = set()  # dotted names already checked: programs call the same few names over and over
_VALID_NAMES_MAX = 4096


def _name(request, field):
    name = request.get(field)
    if type(name) is str and name in _VALID_NAMES:  # type first: an unhashable name is a protocol error (MSG-4)
        return name
    if type(name) is not str:
        raise BridgeError("protocol", f"{field} must be a string, got {type(name).__name__}")
    if not name or not all(part.isidentifier() for part in name.split(".")):
        raise BridgeError("invalid_argument", f"{field} must be a dotted name of identifiers, got {name!r}")
    if len(_VALID_NAMES) < _VALID_NAMES_MAX:
        _VALID_NAMES.add(name)
    return name


def _want(request):
    want = request.get("want", "value")
    if want not in _WANTS:
        raise BridgeError("protocol", f"want must be one of {_WANTS}, got {want!r}")
    return want


_SCALARS = frozenset((str, int, float, bool, type(None)))


def _arguments(worker, request, session_id):
    args, kwargs = request.get("args", []), request.get("kwargs", {})
    if type(args) is not list or type(kwargs) is not dict:
        raise BridgeError("protocol", "args must be a list and kwargs an object")
    if not kwargs and _SCALARS.issuperset(map(type, args)):
        return args, kwargs  # the common call: JSON scalars decode to themselves
    decoder = worker.decoder(session_id)
    return decoder.decode(args), decoder.decode(kwargs)


def _string_list(value, field):
    if type(value) is not list or not all(type(v) is str for v in value):
        raise BridgeError("protocol", f"{field} must be a list of ref id strings")
    return value


def _member(owner, dotted, policy):
    """Resolves ``dotted`` on ``owner``, or as a global name when there is no owner, within the
    session's module ``policy`` (checked before any import, and on every step).

    A global name starts with a builtin (``len``) or a module, and walks attributes from there,
    importing submodules on the way (``xml.etree.ElementTree.fromstring``), so dotted names such
    as ``os.path.join`` and ``collections.OrderedDict.fromkeys`` resolve."""
    checked = policy.active  # the checks are skipped, not just passed, on the common open path
    parts = dotted.split(".")
    if owner is None:
        head, parts = parts[0], parts[1:]
        if head in _BUILTINS:
            if checked:
                policy.check_module("builtins")
            owner = _BUILTINS[head]
        else:  # sys.modules first: import_module costs microseconds even for a loaded module
            if checked:
                policy.check_module(head)
            owner = sys.modules.get(head)
            if owner is None:
                owner = importlib.import_module(head)
    elif checked:
        policy.check_object(owner)
    for part in parts:
        if checked:
            policy.check_attribute(part)
        try:
            owner = getattr(owner, part)
        except AttributeError:
            if not isinstance(owner, ModuleType):
                raise
            if checked:
                policy.check_module(f"{owner.__name__}.{part}")
            owner = _submodule(owner, part)
        if checked:
            policy.check_object(owner)
    return owner


def _submodule(module, part):
    path = f"{module.__name__}.{part}"
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError as exc:
        if exc.name != path:
            raise  # the submodule exists but something it imports does not
        raise AttributeError(f"module {module.__name__!r} has no attribute {part!r}") from None
