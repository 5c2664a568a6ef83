"""SnakeBridge tagged JSON values (PROTOCOL.md section "Values").

By value: None, bool, int (any size), float, str, bytes, complex, datetime/date/time and the
containers list, tuple, set, frozenset and dict, recursively. Only the leaves that cannot travel
by value become refs; generators and iterators become stream refs. A plain JSON object is always a
dict: only ``__type__`` makes a tagged value, and a dict that itself has a ``__type__`` key is sent
in the ``pairs`` form so that it cannot be mistaken for one.
"""
import base64
import collections.abc
import datetime
import math
import types

from . import DEFAULTS, SCHEMA_VERSION, arrays
from .errors import BridgeError, ref_not_found
from .registry import session_mismatch

TYPE = "__type__"
SCHEMA = "__schema__"


class Atom(str):
    """A symbolic constant from the host (an Elixir atom); travels back as an atom."""
    __slots__ = ()


class _StopIterationMarker:
    """A singleton: copying or unpickling it gives it back, so it always travels as its tag."""
    __slots__ = ()

    def __repr__(self):
        return "STOP_ITERATION"

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return "STOP_ITERATION"


STOP_ITERATION = _StopIterationMarker()

_SPECIAL_FLOATS = {"infinity": math.inf, "neg_infinity": -math.inf, "nan": math.nan}


def _tag(name, **fields):
    fields[TYPE] = name
    fields[SCHEMA] = SCHEMA_VERSION
    return fields


def invalid_value(message):
    return BridgeError("invalid_value", message)


def too_long(kind, length, limit):
    return invalid_value(f"a {kind} of length {length} exceeds max_string_length={limit}")


def longest_string(value, limit):
    """The length of the first str in a decoded JSON value longer than ``limit``, or None. Only
    frames larger than ``limit`` can hold one, so the server walks only those."""
    stack = [value]
    while stack:
        item = stack.pop()
        cls = type(item)
        if cls is str:
            if len(item) > limit:
                return len(item)
        elif cls is list:
            stack.extend(item)
        elif cls is dict:
            stack.extend(item.keys())
            stack.extend(item.values())
    return None


# -- Python -> wire ---------------------------------------------------------------------------
class Encoder:
    """Encodes one result. Refs made while encoding are remembered so that the caller can roll
    them back if the result as a whole cannot be sent."""

    __slots__ = ("_registry", "_session_id", "_worker_id", "_max_depth", "_memo", "_active", "new_ref_ids",
                 "attachments", "_attachment_min", "_max_string")

    def __init__(self, registry, session_id, worker_id, max_depth, attachment_min=None, attachments=None,
                 max_string_length=DEFAULTS["max_string_length"]):
        """``attachment_min``: binary payloads of at least this many bytes travel as attachments
        (ATT-*); None where the client cannot read attachments, so everything is inline base64."""
        self._registry = registry
        self._session_id = session_id
        self._worker_id = worker_id
        self._max_depth = max_depth
        self._memo = {}    # id(obj) -> wire ref: the same object twice in one result is one ref
        self._active = set()  # ids of containers being encoded, to catch cycles
        self.new_ref_ids = []
        # bytes-like payloads the message carries after its JSON frame (shared by a batch's results)
        self.attachments = [] if attachments is None else attachments
        self._attachment_min = attachment_min
        self._max_string = max_string_length

    def encode(self, obj, depth=0):
        cls = type(obj)
        if cls is str:
            if len(obj) > self._max_string:
                raise too_long("str", len(obj), self._max_string)
            return obj
        if obj is None or cls is bool:
            return obj
        if cls is int:
            return obj
        if cls is float:
            if math.isfinite(obj):
                return obj
            return _tag("special_float", value="nan" if obj != obj else ("infinity" if obj > 0 else "neg_infinity"))
        if depth >= self._max_depth:
            raise invalid_value(f"result nests deeper than max_nesting_depth={self._max_depth}; request it as a ref")
        if cls is list or cls is tuple or cls is set or cls is frozenset or cls is dict:
            return self._container(obj, cls, depth)
        if cls is Atom:
            return _tag("atom", value=str(obj))
        if cls is bytes:
            if len(obj) > self._max_string:
                raise too_long("bytes", len(obj), self._max_string)
            return self._binary(_tag("bytes"), obj, len(obj))
        if cls is complex:
            return _tag("complex", real=self.encode(obj.real), imag=self.encode(obj.imag))
        if cls is datetime.datetime:
            return _tag("datetime", value=obj.isoformat())
        if cls is datetime.date:
            return _tag("date", value=obj.isoformat())
        if cls is datetime.time:
            return _tag("time", value=obj.isoformat())
        if obj is STOP_ITERATION:
            return _tag("stop_iteration")
        for base in _BY_VALUE_BASES:  # subclasses (OrderedDict, namedtuple, IntEnum...) travel as their base
            if isinstance(obj, base):
                return self._container(obj, base, depth) if base in _CONTAINERS else self.encode(base(obj), depth)
        scalar = _numpy_scalar(obj)
        if scalar is not None:
            return self.encode(scalar, depth)
        return self.ref(obj)

    def _container(self, obj, cls, depth):
        key = id(obj)
        if key in self._active:
            raise invalid_value(f"the {cls.__name__} contains itself; request it as a ref")
        self._active.add(key)
        try:
            depth += 1
            if cls is dict:
                if all(type(k) is str for k in obj) and TYPE not in obj:
                    if obj and max(map(len, obj)) > self._max_string:
                        raise too_long("str", max(map(len, obj)), self._max_string)
                    return {k: self.encode(v, depth) for k, v in obj.items()}
                return _tag("dict", pairs=[[self.encode(k, depth), self.encode(v, depth)] for k, v in obj.items()])
            elements = [self.encode(item, depth) for item in obj]
            if cls is list:
                return elements
            return _tag(cls.__name__, elements=elements)
        finally:
            self._active.discard(key)

    def array(self, obj):
        """``obj`` as an ``ndarray`` value (want "array"): dtype, shape and data, whatever its strides."""
        try:
            dtype, shape, data = arrays.to_wire(obj)
        except arrays.UnsupportedArray as exc:
            raise invalid_value(str(exc)) from None
        nbytes = data.nbytes if type(data) is memoryview else len(data)
        return self._binary(_tag("ndarray", dtype=dtype, shape=shape), data, nbytes)

    def _binary(self, wire, data, nbytes):
        if self._attachment_min is not None and nbytes >= self._attachment_min:
            wire["attachment"] = len(self.attachments)
            self.attachments.append(data)
        else:
            wire["data"] = base64.b64encode(data).decode("ascii")
        return wire

    def ref(self, obj):
        """A ref to ``obj`` (a stream ref for a generator or iterator, however it was asked for)."""
        cached = self._memo.get(id(obj))
        if cached is not None:
            return cached
        stream_type = _stream_type(obj)
        ref_id = self._registry.add(self._session_id, obj)
        self.new_ref_ids.append(ref_id)
        cls = type(obj)
        module = cls.__module__ or ""
        wire = _tag("stream_ref" if stream_type else "ref", id=ref_id, session_id=self._session_id,
                    python_module=module, library=module.partition(".")[0], type_name=cls.__qualname__,
                    worker_id=self._worker_id)
        if stream_type:
            wire["stream_type"] = stream_type
        self._memo[id(obj)] = wire
        return wire


_CONTAINERS = (dict, list, tuple, set, frozenset)
_BY_VALUE_BASES = (int, float, str) + _CONTAINERS


def _stream_type(obj):
    if isinstance(obj, types.GeneratorType):
        return "generator"
    return "iterator" if isinstance(obj, collections.abc.Iterator) else None


def _numpy_scalar(obj):
    """numpy scalars travel as the Python number they hold (numpy arrays stay refs)."""
    cls = type(obj)
    if cls.__module__ != "numpy" or not hasattr(obj, "item") or getattr(obj, "shape", None) != ():
        return None
    value = obj.item()
    return value if type(value) in (bool, int, float, complex) else None


# -- wire -> Python ---------------------------------------------------------------------------
class Decoder:
    """Decodes request values; refs resolve in the request's session only."""

    __slots__ = ("_registry", "_session_id", "_worker_id", "_max_depth", "make_callback", "_attachments", "_promises",
                 "_max_string")

    def __init__(self, registry, session_id, worker_id, max_depth, make_callback=None, attachments=(), promises=None,
                 max_string_length=DEFAULTS["max_string_length"]):
        self._registry = registry
        self._session_id = session_id
        self._worker_id = worker_id
        self._max_depth = max_depth
        self.make_callback = make_callback  # None where callbacks cannot run (no client to call)
        self._attachments = attachments  # the request's attachment frames (bytearrays), by index
        self._promises = promises  # in a batch: the result of each earlier call, or Failed
        self._max_string = max_string_length  # bytes values; the server checks strings (VAL-LIM-3)

    def decode(self, value, depth=0):
        cls = type(value)
        if cls is list:
            self._check_depth(depth)
            return [self.decode(v, depth + 1) for v in value]
        if cls is not dict:
            return value  # None, bool, int, float, str as JSON has them
        self._check_depth(depth)
        tag = value.get(TYPE)
        if tag is None:
            return {k: self.decode(v, depth + 1) for k, v in value.items()}
        if value.get(SCHEMA) != SCHEMA_VERSION:
            raise invalid_value(f"tag {tag!r} has __schema__ {value.get(SCHEMA)!r}; this worker reads schema {SCHEMA_VERSION}")
        handler = _DECODERS.get(tag)
        if handler is None:
            raise invalid_value(f"unknown tag {tag!r}; known tags: {', '.join(sorted(_DECODERS))}")
        try:
            return handler(self, value, depth + 1)
        except BridgeError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise invalid_value(f"malformed {tag!r} value: {type(exc).__name__}: {exc}") from None

    def _check_depth(self, depth):
        if depth >= self._max_depth:
            raise invalid_value(f"value nests deeper than max_nesting_depth={self._max_depth}")

    def _elements(self, value, depth):
        elements = value["elements"]
        if type(elements) is not list:
            raise TypeError("elements must be a list")
        return [self.decode(v, depth) for v in elements]

    def binary(self, value):
        """The payload of a bytes or ndarray value: its attachment, or its inline base64 ``data``."""
        if "attachment" in value:
            index = value["attachment"]
            if type(index) is not int or not 0 <= index < len(self._attachments):
                raise invalid_value(f"attachment {index!r} does not exist: the message carries "
                                    f"{len(self._attachments)} attachment(s)")
            return self._attachments[index]
        return bytearray(base64.b64decode(value["data"], validate=True))

    def bytes_value(self, value):
        data = self.binary(value)
        if len(data) > self._max_string:
            raise too_long("bytes", len(data), self._max_string)
        return bytes(data)

    def resolve_ref(self, value):
        return self._registry.resolve(self._session_id, self.ref_id(value))

    def ref_id(self, value):
        """Checks a wire ref and returns its id (errors: invalid_ref, session_mismatch, ref_not_found)."""
        if type(value) is not dict or value.get(TYPE) not in ("ref", "stream_ref"):
            raise BridgeError("invalid_ref", "expected a ref value", reason="malformed")
        ref_id = value.get("id")
        if type(ref_id) is not str or not ref_id:
            raise BridgeError("invalid_ref", "ref has no id", reason="missing_id")
        ref_session = value.get("session_id")
        if ref_session is not None and ref_session != self._session_id:
            raise session_mismatch(self._session_id, ref_session, ref_id)
        worker_id = value.get("worker_id")
        if worker_id is not None and worker_id != self._worker_id:
            raise ref_not_found(ref_id, self._session_id, "worker_restarted")
        return ref_id


def _decode_dict(decoder, value, depth):
    result = {}
    for pair in value["pairs"]:
        if type(pair) is not list or len(pair) != 2:
            raise ValueError("each pair must be a [key, value] list")
        key = decoder.decode(pair[0], depth)
        result[key] = decoder.decode(pair[1], depth)
    return result


def _decode_special_float(decoder, value, depth):
    return _SPECIAL_FLOATS[value["value"]]


def _decode_complex(decoder, value, depth):
    real, imag = decoder.decode(value["real"], depth), decoder.decode(value["imag"], depth)
    if type(real) not in (int, float) or type(imag) not in (int, float):
        raise TypeError("real and imag must be numbers")
    return complex(real, imag)


def _iso(kind):
    def decode(decoder, value, depth):
        text = value["value"]
        if type(text) is not str:
            raise TypeError("value must be an ISO-8601 string")
        return kind.fromisoformat(text)
    return decode


def _decode_callback(decoder, value, depth):
    if decoder.make_callback is None:
        raise BridgeError("invalid_value", "a callback value cannot be used here: there is no client to call it")
    return decoder.make_callback(value["ref_id"], value["arity"])


def _decode_ndarray(decoder, value, depth):
    try:
        return arrays.from_wire(value["dtype"], value["shape"], decoder.binary(value))
    except arrays.UnsupportedArray as exc:
        raise invalid_value(f"malformed 'ndarray' value: {exc}") from None


class Failed:
    """Marks a batch call that failed: a promise of it fails too."""
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index



def _decode_promise(decoder, value, depth):
    promises, index = decoder._promises, value["index"]
    if promises is None:
        raise invalid_value("a promise can only be used by a later call of the batch that made it")
    if type(index) is not int or not 0 <= index < len(promises):
        raise invalid_value(f"promise {index!r} refers to no earlier call of this batch (calls run in order; "
                            f"{len(promises)} ran so far)")
    result = promises[index]
    if type(result) is Failed:
        raise BridgeError("dependency_failed", f"call {index} of this batch failed, so its result cannot be used",
                          index=index)
    return result


def _decode_atom(decoder, value, depth):
    text = value["value"]
    if type(text) is not str:
        raise TypeError("value must be a string")
    return Atom(text)


_DECODERS = {
    "atom": _decode_atom,
    "tuple": lambda d, v, depth: tuple(d._elements(v, depth)),
    "set": lambda d, v, depth: set(d._elements(v, depth)),
    "frozenset": lambda d, v, depth: frozenset(d._elements(v, depth)),
    "bytes": lambda d, v, depth: d.bytes_value(v),
    "ndarray": _decode_ndarray,
    "complex": _decode_complex,
    "datetime": _iso(datetime.datetime),
    "date": _iso(datetime.date),
    "time": _iso(datetime.time),
    "special_float": _decode_special_float,
    "dict": _decode_dict,
    "ref": lambda d, v, depth: d.resolve_ref(v),
    "stream_ref": lambda d, v, depth: d.resolve_ref(v),
    "callback": _decode_callback,
    "stop_iteration": lambda d, v, depth: STOP_ITERATION,
    "promise": _decode_promise,
}
