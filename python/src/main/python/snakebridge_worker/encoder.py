"""Python -> wire (PROTOCOL.md section "Values"): one result at a time."""
import base64
import collections.abc
import datetime
import math
import sys
import types

from . import DEFAULTS, SCHEMA_VERSION, arrays
from .policy import OPEN
from .values import SCHEMA, STOP_ITERATION, TYPE, Atom, invalid_value, too_long, too_many_values


def _tag(name, **fields):
    fields[TYPE] = name
    fields[SCHEMA] = SCHEMA_VERSION
    return fields


class Encoder:
    """Encodes one result. Refs made while encoding are remembered so that the caller can roll
    them back if the result as a whole cannot be sent."""

    __slots__ = ("_registry", "_session_id", "_worker_id", "_max_depth", "_memo", "_active", "new_ref_ids",
                 "attachments", "_attachment_min", "_max_string", "_max_values", "_values_left", "_policy")

    def __init__(self, registry, session_id, worker_id, max_depth, attachment_min=None, attachments=None,
                 max_string_length=DEFAULTS["max_string_length"], max_values=DEFAULTS["max_response_elements"],
                 policy=OPEN):
        """``attachment_min``: binary payloads of at least this many bytes travel as attachments
        (ATT-*); None where the client cannot read attachments, so everything is inline base64.
        ``max_values``: the client's max_response_elements (RESP-2). ``policy``: the session's module
        policy, which every object it makes a ref to must be within."""
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
        # Containers' elements encoded so far count against it: a list of twenty million items is refused
        # before its first item is encoded. A guard that never counts more than there is, not the rule:
        # the server counts the whole message exactly before it writes it.
        self._max_values = max_values
        self._values_left = max_values
        self._policy = policy

    def encode(self, obj):
        """``obj`` as the wire carries it. Only this encoding's own recursion can fail with
        RecursionError here (a RecursionError of user code is a python_exception, never this)."""
        try:
            return self._encode(obj, 0)
        except RecursionError:
            raise invalid_value("result nests too deeply to encode; request it as a ref") from None

    def _encode(self, obj, depth):
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
            return _tag("complex", real=self._encode(obj.real, depth), imag=self._encode(obj.imag, depth))
        if cls is datetime.datetime:
            return _datetime(obj)
        if cls is datetime.date:
            return _tag("date", value=obj.isoformat())
        if cls is datetime.time:
            return _tag("time", value=obj.isoformat())
        if cls is datetime.timedelta:
            return _tag("timedelta", days=obj.days, seconds=obj.seconds, microseconds=obj.microseconds)
        if obj is STOP_ITERATION:
            return _tag("stop_iteration")
        by_name = _BY_TYPE_NAME.get((cls.__module__, cls.__qualname__))
        if by_name is not None:
            return by_name(obj)
        for base in _BY_VALUE_BASES:  # subclasses (OrderedDict, namedtuple, IntEnum...) travel as their base
            if isinstance(obj, base):
                if base in _CONTAINERS:
                    return self._container(obj, base, depth)
                # Their contents, never their display text: str() of a (str, Enum) member is "Flavor.SWEET".
                return self._encode(_CONTENTS[base](obj), depth)
        scalar = _numpy_scalar(obj)
        if scalar is not None:
            return self._encode(scalar, depth)
        return self.ref(obj)

    def _container(self, obj, cls, depth):
        self._values_left -= len(obj)
        if self._values_left < 0:
            raise too_many_values(self._max_values)
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
                    return {k: self._encode(v, depth) for k, v in obj.items()}
                return _tag("dict", pairs=[[self._encode(k, depth), self._encode(v, depth)] for k, v in obj.items()])
            elements = [self._encode(item, depth) for item in obj]
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
        self._policy.check_object(obj)
        return self.own_ref(obj)

    def own_ref(self, obj):
        """A ref to an object the worker made itself (a prepared call), which no module policy judges."""
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
# The contents of a subclass instance as its plain base type. The base's own method: a subclass's
# __str__, __int__ or __float__ (an Enum's, say) may say something else.
_CONTENTS = {str: str.__str__, int: int.__int__, float: float.__float__}


def _datetime(obj):
    """A datetime; one with an IANA zone (zoneinfo) carries the zone's key too, not only its offset (VAL-TIME-2)."""
    wire = _tag("datetime", value=obj.isoformat())
    zoneinfo = sys.modules.get("zoneinfo")  # not imported: no datetime can hold a ZoneInfo
    if obj.tzinfo is not None and zoneinfo is not None and isinstance(obj.tzinfo, zoneinfo.ZoneInfo) \
            and obj.tzinfo.key is not None:
        wire["zone"] = obj.tzinfo.key
    return wire


def _decimal(obj):
    """A finite Decimal as its exact text (VAL-DEC-1); NaN and infinities have no BigDecimal."""
    if not obj.is_finite():
        raise invalid_value(f"decimal.Decimal({str(obj)!r}) is not finite, and a decimal travels only finite "
                            "(BigDecimal has no NaN or infinity); request it as a ref, or convert it to float")
    return _tag("decimal", value=str(obj))


# Value types of modules the worker does not import itself (an instance means its module is loaded), by
# their exact class: decimal.Decimal (the C and the pure-Python one both say module "decimal") and uuid.UUID.
_BY_TYPE_NAME = {("decimal", "Decimal"): _decimal, ("uuid", "UUID"): lambda obj: _tag("uuid", value=str(obj))}


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
