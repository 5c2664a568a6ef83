"""SnakeBridge tagged JSON values (PROTOCOL.md section "Values"): what the encoder and the decoder share.

By value: None, bool, int (any size), float, str, bytes, complex, datetime/date/time and the
containers list, tuple, set, frozenset and dict, recursively. Only the leaves that cannot travel
by value become refs; generators and iterators become stream refs. A plain JSON object is always a
dict: only ``__type__`` makes a tagged value, and a dict that itself has a ``__type__`` key is sent
in the ``pairs`` form so that it cannot be mistaken for one.
"""
from .errors import BridgeError

TYPE = "__type__"
SCHEMA = "__schema__"


class Atom(str):
    """A symbolic constant: the wire's ``atom`` value (PyAtom in Java). Python code sees a str; it
    travels back as an atom, not as a plain string."""
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


def invalid_value(message):
    return BridgeError("invalid_value", message)


def too_long(kind, length, limit):
    return invalid_value(f"a {kind} of length {length} exceeds max_string_length={limit}")


# What works instead of a value too large for the client's caps.
_INSTEAD = ('keep it in Python as a ref (want "ref") and fetch it in parts, return bulk numbers as an array '
            '(want "array"), or stream it (an iterator)')


def over_cap(what, setting, limit):
    """A message past one of the client's caps (FRAME-3, RESP-*): what it holds, the cap it exceeds (also in
    ``details``, as ref_limit does) and what works instead."""
    return BridgeError("invalid_value", f"{what} exceeds {setting}={limit}; {_INSTEAD}", setting=setting, limit=limit)


def too_many_values(limit):
    return over_cap(f"a message of more than {limit} JSON values", "max_response_elements", limit)


def count_values(message, limit):
    """The JSON values in a message about to be written (every dict, list, str, number, bool and None;
    dict keys are not values), as a client's parser counts them (RESP-2); it stops soon after passing
    ``limit``. A value takes at least one byte of JSON, so only messages longer than ``limit`` need it."""
    count = 1
    stack = [message]
    while stack:
        item = stack.pop()
        children = item.values() if type(item) is dict else item
        count += len(children)
        if count > limit:
            return count
        for child in children:
            cls = type(child)
            if cls is list or cls is dict:
                stack.append(child)
    return count


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
