"""A request's fields, read and checked (PROTOCOL.md MSG-*): what the ops share. Each reader fails
with the error code the protocol gives a missing or malformed field."""
from .errors import BridgeError

_WANTS = ("value", "ref", "array", "none")
_VALID_NAMES = set()  # dotted names already checked: programs call the same few names over and over
_VALID_NAMES_MAX = 4096
SCALARS = frozenset((str, int, float, bool, type(None)))  # the types of JSON scalars, which decode to themselves


def dotted_name(request, field):
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


def is_known_name(name):
    """Whether ``name`` is a dotted name that dotted_name() has already accepted."""
    return type(name) is str and name in _VALID_NAMES


def want(request):
    """How the result is to travel: by value, as a ref, as array data, or not at all."""
    wanted = request.get("want", "value")
    if wanted not in _WANTS:
        raise BridgeError("protocol", f"want must be one of {_WANTS}, got {wanted!r}")
    return wanted


def arguments(worker, request, session_id):
    """(args, kwargs), decoded."""
    args, kwargs = request.get("args", []), request.get("kwargs", {})
    if type(args) is not list or type(kwargs) is not dict:
        raise BridgeError("protocol", "args must be a list and kwargs an object")
    if not kwargs and SCALARS.issuperset(map(type, args)):
        return args, kwargs  # the common call: JSON scalars decode to themselves
    decoder = worker.decoder(session_id)
    return decoder.decode(args), decoder.decode(kwargs)


def target_of(worker, request, session_id):
    """The object an op acts on: a ref (or, in a batch, a promise) in ``object``; None means the
    op names a global instead."""
    obj = request.get("object")
    if obj is None:
        return None
    decoder = worker.decoder(session_id)
    if type(obj) is dict and obj.get("__type__") == "promise":
        return decoder.decode(obj)
    return decoder.resolve_ref(obj)


def ref_ids(value, field):
    if type(value) is not list or not all(type(v) is str for v in value):
        raise BridgeError("protocol", f"{field} must be a list of ref id strings")
    return value
