"""Prepared calls (PROTOCOL.md PREP-*): a callable resolved and judged by the module policy once,
kept in its session as a ref, and then called with parameters only, one row or many at a time."""
import array
import itertools

from .errors import BridgeError, to_wire
from .fields import SCALARS

# dtypes a prepared batch can return its results as (PREP-4): wire dtype -> array.array type code
RESULT_DTYPES = {"float64": "d", "float32": "f", "int64": "q", "int32": "i", "bool": "B"}


class PreparedCall:
    """What ``prepare`` keeps: the callable, and whether the policy must judge it again per call.
    A mutating method of a list, dict, set or bytearray is judged per call (its owner may become
    module state later, POL-4); anything else was judged for good when it was prepared."""

    __slots__ = ("fn", "recheck")

    def __init__(self, fn, policy):
        self.fn = fn
        self.recheck = policy.judges_each_call(fn)

    def check(self, policy):
        if self.recheck:
            policy.check_call(self.fn)

    def call(self, policy, args, kwargs):
        self.check(policy)
        return self.fn(*args, **kwargs)

    def run_rows(self, policy, rows, count):
        """Calls the function once per row of ``count`` rows of arguments: the results in order (None
        for a failed row) and {row index: exception}. A cancel (KeyboardInterrupt, a BaseException)
        ends it all."""
        self.check(policy)
        results = []
        failures = {}
        calls = itertools.starmap(self.fn, rows)  # the hot loop runs in C: extend() pulls each call's result
        while True:
            try:
                results.extend(calls)  # keeps what it got before a row raised; starmap then goes on after that row
            except Exception as exc:
                failures[len(results)] = exc
                results.append(None)
                continue
            if len(results) == count:
                return results, failures
            # extend() took a StopIteration that the call raised for the end of the rows: that row failed
            failures[len(results)] = StopIteration(f"{getattr(self.fn, '__qualname__', 'the call')} raised StopIteration")
            results.append(None)


def rows_of(request, decode):
    """The argument rows of an execute_prepared request, and how many: ``rows`` (a list of argument
    lists) or ``columns`` (one list or array per argument position, all of one length), exactly one
    of them. ``decode`` decodes a value that is not plain JSON scalars."""
    rows, columns = request.get("rows"), request.get("columns")
    if (rows is None) == (columns is None):
        raise BridgeError("protocol", "execute_prepared needs exactly one of rows and columns")
    if rows is not None:
        if type(rows) is not list or not all(type(row) is list for row in rows):
            raise BridgeError("protocol", "rows must be a list of argument lists")
        return [_plain(row, decode) for row in rows], len(rows)
    if type(columns) is not list or not columns:
        raise BridgeError("protocol", "columns must be a non-empty list of argument columns")
    decoded = []
    for column in columns:
        if type(column) is dict:  # an ndarray value: one dimension, one element per row
            column = decode(column)
            if not hasattr(column, "tolist") or len(getattr(column, "shape", (len(column),))) != 1:
                raise BridgeError("invalid_value", "a column must be a list or a one-dimensional array")
            column = column.tolist()  # Python numbers: user code gets what a row would have given it
        elif type(column) is list:
            column = _plain(column, decode)
        else:
            raise BridgeError("protocol", "each column must be a list or an ndarray value")
        decoded.append(column)
    length = len(decoded[0])
    if any(len(column) != length for column in decoded):
        raise BridgeError("invalid_argument", f"columns must all have one length, got {[len(c) for c in decoded]}")
    return zip(*decoded), length


def _plain(values, decode):
    return values if SCALARS.issuperset(map(type, values)) else decode(values)


def pack(results, failures, dtype):
    """Results as one array of ``dtype``; a failed row holds 0, and a result that is not a number of
    that dtype fails its row with invalid_value (added to ``failures``)."""
    code = RESULT_DTYPES.get(dtype)
    if code is None:
        raise BridgeError("invalid_argument", f"dtype must be one of {', '.join(RESULT_DTYPES)}, got {dtype!r}")
    if not failures and code != "B":
        try:
            return array.array(code, results)  # every row a number of the dtype: one pass in C
        except (TypeError, OverflowError):
            pass  # some row's result is not: the loop below says which
    out = array.array(code, bytes(len(results) * array.array(code).itemsize))
    for index, value in enumerate(results):
        if index in failures:
            continue
        if code == "B" and type(value).__name__ not in ("bool", "bool_"):
            failures[index] = _not_of(index, value, dtype)
            continue
        try:
            out[index] = value
        except (TypeError, OverflowError):
            failures[index] = _not_of(index, value, dtype)
    return memoryview(out).cast("?") if code == "B" else out  # bytes of 0 and 1, read as bool


def _not_of(index, value, dtype):
    return BridgeError("invalid_value", f"row {index}'s result {type(value).__name__} {value!r:.80} is not a {dtype}")


def errors_of(failures):
    return {str(index): to_wire(exc) for index, exc in sorted(failures.items())}
