"""wire -> Python (PROTOCOL.md section "Values"): the values of a request or of a callback's reply."""
import base64
import datetime
import math

from . import DEFAULTS, SCHEMA_VERSION, arrays
from .errors import BridgeError, ref_not_found
from .prepared import PreparedCall
from .registry import session_mismatch
from .values import SCHEMA, STOP_ITERATION, TYPE, Atom, invalid_value, too_long

_SPECIAL_FLOATS = {"infinity": math.inf, "neg_infinity": -math.inf, "nan": math.nan}


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
        """``value`` as Python sees it. Only this decoding's own recursion can fail with RecursionError
        here: it is the worker's to report as invalid_value (user code's is a python_exception)."""
        if depth:
            return self._decode(value, depth)
        try:
            return self._decode(value, 0)
        except RecursionError:
            raise invalid_value("value nests too deeply to decode") from None

    def _decode(self, value, depth):
        cls = type(value)
        if cls is list:
            self._check_depth(depth)
            return [self._decode(v, depth + 1) for v in value]
        if cls is not dict:
            return value  # None, bool, int, float, str as JSON has them
        self._check_depth(depth)
        tag = value.get(TYPE)
        if tag is None:
            return {k: self._decode(v, depth + 1) for k, v in value.items()}
        if value.get(SCHEMA) != SCHEMA_VERSION:
            raise invalid_value(f"tag {tag!r} has __schema__ {value.get(SCHEMA)!r}; this worker reads schema {SCHEMA_VERSION}")
        handler = DECODERS.get(tag)
        if handler is None:
            raise invalid_value(f"unknown tag {tag!r}; known tags: {', '.join(sorted(DECODERS))}")
        try:
            return handler(self, value, depth + 1)
        except BridgeError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError) as exc:
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
        obj = self._registry.resolve(self._session_id, self.ref_id(value))
        if type(obj) is PreparedCall:  # the worker's own bookkeeping: usable only as a prepared call (PREP-2)
            raise BridgeError("invalid_argument", "a prepared call's ref can only be called through call_prepared "
                                                  "or execute_prepared, not used as an object")
        return obj

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


def _decode_datetime(decoder, value, depth):
    moment = _iso(datetime.datetime)(decoder, value, depth)
    zone = value.get("zone")
    if zone is None:
        return moment
    if type(zone) is not str or moment.tzinfo is None:
        raise TypeError("zone must be a string, on a datetime with an offset")
    # The client's value makes the worker import a module: the session's policy must allow it (POL-1).
    decoder._registry.policy(decoder._session_id).check_module("zoneinfo")
    import zoneinfo  # only where a zone arrives: most workers never need it
    # The offset fixes the instant; the zone then gives its local time and fold (DST overlaps).
    return moment.astimezone(zoneinfo.ZoneInfo(zone))


def _decode_timedelta(decoder, value, depth):
    days, seconds, micros = value["days"], value["seconds"], value["microseconds"]
    if not all(type(part) is int for part in (days, seconds, micros)):
        raise TypeError("days, seconds and microseconds must be integers")
    return datetime.timedelta(days=days, seconds=seconds, microseconds=micros)


def _decode_decimal(decoder, value, depth):
    text = value["value"]
    if type(text) is not str:
        raise TypeError("value must be a string")
    import decimal  # only where a decimal arrives: the worker starts without it
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None
    if not number.is_finite():
        raise ValueError(f"{text!r} is not finite; a decimal travels only finite")
    return number


def _decode_uuid(decoder, value, depth):
    text = value["value"]
    if type(text) is not str:
        raise TypeError("value must be a string")
    import uuid  # only where a uuid arrives: the worker starts without it
    return uuid.UUID(text)


def _decode_callback(decoder, value, depth):
    if decoder.make_callback is None:
        raise BridgeError("invalid_value", "a callback value cannot be used here: there is no client to call it")
    exported = value.get("exported", False)
    if type(exported) is not bool:
        raise TypeError("exported must be a boolean")
    return decoder.make_callback(value["ref_id"], value["arity"], exported)


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


# Every tag the worker reads (PROTOCOL.md's value tags): tag -> function of (decoder, tagged value, depth).
DECODERS = {
    "atom": _decode_atom,
    "tuple": lambda d, v, depth: tuple(d._elements(v, depth)),
    "set": lambda d, v, depth: set(d._elements(v, depth)),
    "frozenset": lambda d, v, depth: frozenset(d._elements(v, depth)),
    "bytes": lambda d, v, depth: d.bytes_value(v),
    "ndarray": _decode_ndarray,
    "complex": _decode_complex,
    "datetime": _decode_datetime,
    "date": _iso(datetime.date),
    "time": _iso(datetime.time),
    "timedelta": _decode_timedelta,
    "decimal": _decode_decimal,
    "uuid": _decode_uuid,
    "special_float": _decode_special_float,
    "dict": _decode_dict,
    "ref": lambda d, v, depth: d.resolve_ref(v),
    "stream_ref": lambda d, v, depth: d.resolve_ref(v),
    "callback": _decode_callback,
    "stop_iteration": lambda d, v, depth: STOP_ITERATION,
    "promise": _decode_promise,
}
