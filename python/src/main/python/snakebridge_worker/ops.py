"""The ops (PROTOCOL.md section "Operations"): one function per op, registered in OPS by name.

An op gets the worker and the decoded request (and its session id, if the op is session-scoped)
and returns the response's result; the Worker checks the envelope before it runs one."""
import collections.abc
import itertools
import os
import sys

from . import DEFAULTS, MIN_SUPPORTED_VERSION, PROTOCOL_VERSION
from .callbacks import CallbackError
from .decoder import Failed
from .errors import BridgeError, to_wire
from .fields import arguments, dotted_name, ref_ids, target_of, want
from .names import resolve
from .prepared import PreparedCall, errors_of, pack, rows_of

CAPABILITIES = ["refs", "stream_refs", "batch_release", "session_limits", "ref_ttl", "tombstones", "cancel", "callbacks",
                "module_policy", "attachments", "arrays", "object_protocol", "batch", "prepared", "lean"]
# Limits a client may set at the handshake (HS-5), with the ranges the worker accepts: [low, high].
_NEGOTIABLE = DEFAULTS["negotiable_limits"]
OPS = {}


def _op(session_scoped=True):
    def register(fn):
        fn.session_scoped = session_scoped
        OPS[fn.__name__.lstrip("_")] = fn
        return fn
    return register


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
    worker.lean = "lean" in client_capabilities  # the client sends and reads lean frames (LEAN-1)
    worker.handshaken = True
    result = {
        "protocol_version": agreed,
        "min_supported_version": MIN_SUPPORTED_VERSION,
        "worker_id": worker.worker_id,
        "pid": os.getpid(),
        "python_version": ".".join(map(str, sys.version_info[:3])),
        "implementation": sys.implementation.name,
        "capabilities": CAPABILITIES + (["cancel_target"] if worker.cancel_word is not None else []),
        "defaults": worker.registry.default_limits.to_wire(),  # a server's --max-refs lowers max_refs (REMOTE-8)
        "limits": dict(worker.limits),
    }
    server_limits = worker.registry.server_limits.to_wire()
    if server_limits:
        result["server_limits"] = server_limits  # what the worker server bounds (REMOTE-6)
    return result


@_op(session_scoped=False)
def ping(worker, request):
    return "pong"


@_op()
def call(worker, request, session_id):
    target, name = target_of(worker, request, session_id), dotted_name(request, "function")
    args, kwargs = arguments(worker, request, session_id)
    result = worker.run_user_code(_invoke, target, name, worker.registry.policy(session_id), args, kwargs)
    return worker.encode_result(session_id, result, want(request))


@_op()
def call_method(worker, request, session_id):
    if request.get("object") is None:
        raise BridgeError("protocol", "call_method needs an object (a ref)")
    target, name = target_of(worker, request, session_id), dotted_name(request, "method")
    args, kwargs = arguments(worker, request, session_id)
    result = worker.run_user_code(_invoke, target, name, worker.registry.policy(session_id), args, kwargs)
    return worker.encode_result(session_id, result, want(request))


def _invoke(target, name, policy, args, kwargs):
    fn = resolve(target, name, policy)
    policy.check_call(fn)
    return fn(*args, **kwargs)


@_op()
def get_attr(worker, request, session_id):
    target, name = target_of(worker, request, session_id), dotted_name(request, "name")
    value = worker.run_user_code(resolve, target, name, worker.registry.policy(session_id))
    return worker.encode_result(session_id, value, want(request))


@_op()
def get(worker, request, session_id):
    """The object in ``object`` itself, encoded as ``want`` asks: turns a ref into its value or its
    array data (RefHandle.toArray) in one round trip."""
    if request.get("object") is None:
        raise BridgeError("protocol", "get needs an object (a ref)")
    return worker.encode_result(session_id, target_of(worker, request, session_id), want(request))


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
    "enter": (lambda obj: type(obj).__enter__(obj), 0), "exit": (_exit, None), "iter": (iter, 0),
}


@_op()
def apply(worker, request, session_id):
    """A Python protocol on the object in ``object``: len, contains, item access, repr/str, iter, and
    a context manager's enter/exit. Special methods are looked up on the type, as Python does."""
    if request.get("object") is None:
        raise BridgeError("protocol", "apply needs an object (a ref)")
    action = request.get("action")
    if action not in _ACTIONS:
        raise BridgeError("protocol", f"action must be one of {', '.join(_ACTIONS)}, got {action!r}")
    fn, arity = _ACTIONS[action]
    args, _ = arguments(worker, request, session_id)
    if arity is not None and len(args) != arity:
        raise BridgeError("protocol", f"action {action!r} takes {arity} argument(s), got {len(args)}")
    if action == "exit" and len(args) not in (0, 2):
        raise BridgeError("protocol", "action 'exit' takes no arguments or a Java exception's [type, message]")
    target = target_of(worker, request, session_id)
    policy = worker.registry.policy(session_id)
    policy.check_instance(target)
    if action in ("setitem", "delitem"):
        policy.check_mutable(target)
    result = worker.run_user_code(fn, target, *args)
    return worker.encode_result(session_id, result, want(request))


@_op()
def set_attr(worker, request, session_id):
    name = dotted_name(request, "name")
    owner_path, _, attr = name.rpartition(".")
    owner = target_of(worker, request, session_id)
    if not owner_path and owner is None:
        raise BridgeError("invalid_argument", f"set_attr of {name!r} needs an object or a dotted name with an owner")
    if "value" not in request:
        raise BridgeError("protocol", "set_attr needs a value")
    value = worker.decoder(session_id).decode(request["value"])
    worker.run_user_code(_set, owner, owner_path, attr, value, worker.registry.policy(session_id))
    return None


def _set(owner, owner_path, attr, value, policy):
    if owner_path:
        owner = resolve(owner, owner_path, policy)
    else:
        policy.check_object(owner)
    policy.check_attribute(owner, attr)
    policy.check_mutable(owner)
    setattr(owner, attr, value)


_MAX_FETCH = 1 << 20


@_op()
def stream_next(worker, request, session_id):
    """The next batch of at most max_items items of an iterator ref: one round trip per batch."""
    if request.get("object") is None:
        raise BridgeError("protocol", "stream_next needs an object (an iterator ref)")
    iterator = target_of(worker, request, session_id)
    max_items = request.get("max_items")
    if type(max_items) is not int or not 1 <= max_items <= _MAX_FETCH:
        raise BridgeError("protocol", f"max_items must be an integer from 1 to {_MAX_FETCH}, got {max_items!r}")
    if not isinstance(iterator, collections.abc.Iterator):
        raise BridgeError("invalid_argument", f"stream_next needs an iterator, got {type(iterator).__name__}; "
                                              "call iter() on it first")
    worker.registry.policy(session_id).check_class_code(iterator)  # its __next__ runs
    items, failure = worker.run_user_code(_take, iterator, max_items)
    reply = {"items": worker.encode_result(session_id, items, "value"), "done": failure is not None or len(items) < max_items}
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
        for index, entry in enumerate(calls):
            state.value = None
            worker.last_result_refs = None
            try:
                op = entry.get("op")
                if op not in _BATCHABLE:
                    raise BridgeError("protocol", f"a batch call's op must be one of {', '.join(_BATCHABLE)}, got {op!r}")
                result = OPS[op](worker, entry, session_id)
                if worker.last_result_refs:
                    made_refs.extend(worker.last_result_refs[1])
                promises.append(state.value)
                values.append(result)
            except Exception as exc:  # a cancel or a broken stream is a BaseException: it ends the whole batch
                promises.append(Failed(index))
                values.append(None)
                errors[str(index)] = to_wire(exc)
    except BaseException:
        worker.registry.discard(session_id, made_refs)  # the client never sees these results
        raise
    worker.last_result_refs = (session_id, made_refs)
    return {"values": values, "errors": errors}


@_op()
def prepare(worker, request, session_id):
    """Resolves a callable and judges it by the module policy once (PREP-1): later calls of it
    send parameters only. It is kept as a ref of the session, released and reset like one."""
    target, name = target_of(worker, request, session_id), dotted_name(request, "function")
    policy = worker.registry.policy(session_id)
    fn = worker.run_user_code(_resolve_callable, target, name, policy)
    encoder = worker.encoder(session_id)
    worker.last_result_refs = (session_id, encoder.new_ref_ids)
    return encoder.own_ref(PreparedCall(fn, policy))


def _resolve_callable(target, name, policy):
    fn = resolve(target, name, policy)
    policy.check_call(fn)
    if not callable(fn):
        raise BridgeError("invalid_argument", f"{name!r} is a {type(fn).__name__}, which cannot be called")
    return fn


def _prepared(worker, request, session_id):
    """The PreparedCall named by ``prepared`` (PREP-2): a ref id of this session that prepare made."""
    ref_id = request.get("prepared")
    if type(ref_id) is not str or not ref_id:
        raise BridgeError("protocol", "prepared must be the non-empty string id of a prepared call")
    prepared = worker.registry.resolve(session_id, ref_id)
    if type(prepared) is not PreparedCall:
        raise BridgeError("invalid_argument", f"ref {ref_id} is a {type(prepared).__name__}, not a prepared call")
    return prepared


@_op()
def call_prepared(worker, request, session_id):
    prepared = _prepared(worker, request, session_id)
    args, kwargs = arguments(worker, request, session_id)
    result = worker.run_user_code(prepared.call, worker.registry.policy(session_id), args, kwargs)
    return worker.encode_result(session_id, result, want(request))


@_op()
def execute_prepared(worker, request, session_id):
    """Runs a prepared call once per row, rows given as rows or as columns (PREP-3); each row gets its
    result or its error, and a cancel ends them all (PREP-5)."""
    prepared = _prepared(worker, request, session_id)
    wanted = want(request)
    if wanted == "ref":
        raise BridgeError("invalid_argument", "execute_prepared returns values, an array or nothing; not refs")
    decoder = worker.decoder(session_id)
    rows, count = rows_of(request, decoder.decode)
    policy = worker.registry.policy(session_id)
    results, failures = worker.run_user_code(prepared.run_rows, policy, rows, count)
    if policy.active:  # each result is judged as a call's would be (POL-3); a refused one fails its row
        for index, value in enumerate(results):
            if index not in failures:
                try:
                    policy.check_object(value)
                except BridgeError as exc:
                    failures[index] = exc
                    results[index] = None
    if wanted == "none":
        return {"values": None, "errors": errors_of(failures)}
    if wanted == "array":
        packed = pack(results, failures, request.get("dtype"))
        encoder = worker.encoder(session_id)
        return {"values": encoder.array(packed), "errors": errors_of(failures)}
    for index in failures:
        results[index] = None
    encoder = worker.encoder(session_id)
    worker.last_result_refs = (session_id, encoder.new_ref_ids)
    try:
        values = encoder.encode(results)
    except BaseException:
        worker.rollback_last_result()
        raise
    return {"values": values, "errors": errors_of(failures)}


@_op()
def release_ref(worker, request, session_id):
    return worker.registry.release(session_id, ref_ids(request.get("ids"), "ids"))


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
