"""The lean encoding (PROTOCOL.md LEAN-*): prepared calls, and calls by name, without JSON on either side.

A lean frame starts with the byte 0xB1, which no UTF-8 text (and so no JSON frame) can start
with; its fields are little-endian and length-prefixed, read with ``struct`` in one pass. A lean
request becomes the same dict its JSON twin would decode to, so every op rule holds unchanged; a
frame that is not exactly well-formed is a protocol error, and the worker keeps serving (LEAN-3).
Only answers that are a scalar, or an execute_prepared array with no failed row, travel lean;
every other answer is the ordinary JSON response (LEAN-2)."""
import array
import base64
import struct
import sys

from .errors import BridgeError

MAGIC = 0xB1
LEAN = object()  # the key that marks a request as read from a lean frame: no JSON text can make it
_HEAD = struct.Struct("<BBqH")  # magic, op, request id, length of the session id
_RESPONSE = struct.Struct("<Bq")  # magic, request id
_U8, _U16, _U32 = struct.Struct("<B"), struct.Struct("<H"), struct.Struct("<I")
_F64, _I64 = struct.Struct("<d"), struct.Struct("<q")
_EXECUTE = struct.Struct("<BIB")  # want code, rows, columns
_CONSTANTS = {0x54: True, 0x46: False, 0x4E: None}  # T, F, N
CALL_PREPARED, EXECUTE_PREPARED, CALL = 1, 2, 3  # op codes
_OPS = {CALL_PREPARED: "call_prepared", EXECUTE_PREPARED: "execute_prepared", CALL: "call"}
_TARGET = {CALL_PREPARED: "prepared", EXECUTE_PREPARED: "prepared", CALL: "function"}  # the text after the session id
# want codes of execute_prepared: code -> (want, dtype)
_WANTS = {0: ("value", None), 1: ("none", None), 2: ("array", "float64"), 3: ("array", "int64"), 4: ("array", "int32"),
          5: ("array", "float32"), 6: ("array", "bool")}
_DTYPE_CODES = {dtype: code for code, (want, dtype) in _WANTS.items() if dtype}
_COLUMNS = {ord("d"): "d", ord("q"): "q"}  # column type -> array.array code (8-byte items)
_ITEM = {"float64": 8, "int64": 8, "int32": 4, "float32": 4, "bool": 1}


def _malformed(request_id, message):
    error = BridgeError("protocol", message)
    error.request_id = request_id
    return error


def parse_request(payload, max_string_length):
    """The request a lean frame carries, as a dict like its JSON twin; raises a protocol
    BridgeError (with ``request_id`` once the id is known) for a frame that is not well-formed.
    Written for speed (it is every lean request's first step): offsets and ``unpack_from``, no
    objects; a read past the end raises, and is caught once, below."""
    if len(payload) < _HEAD.size:
        raise _malformed(None, f"lean frame of {len(payload)} bytes is shorter than its header")
    magic, op, request_id, session_length = _HEAD.unpack_from(payload)
    name = _OPS.get(op)
    if name is None:
        raise _malformed(request_id, f"lean frame has unknown op code {op}; known: {_OPS}")
    try:
        session_id, target, pos = _ids(payload, session_length)
        request = {"id": request_id, "op": name, "session_id": session_id, _TARGET[op]: target, LEAN: True}
        if op == EXECUTE_PREPARED:
            pos = _columns(request, payload, pos)
        else:
            request["args"], pos = _arguments(payload, pos, request_id, max_string_length)
    except (IndexError, ValueError, struct.error) as exc:  # UnicodeDecodeError is a ValueError
        raise _malformed(request_id, f"malformed lean {name} frame: {exc}") from None
    if pos != len(payload):
        raise _malformed(request_id, f"lean frame has {len(payload) - pos} bytes after its last field")
    return request


def parse_call(payload, max_string_length):
    """(op code, request id, session id, prepared id or function, args) of a lean call_prepared or
    call frame that is exactly well-formed and within max_string_length; None for any other frame,
    which parse_request then reads (and reports, LEAN-3). The short path's parser (server.py): the
    fields parse_request reads, without the dict."""
    try:
        magic, op, request_id, session_length = _HEAD.unpack_from(payload)
        if op != CALL_PREPARED and op != CALL:
            return None
        session_id, target, pos = _ids(payload, session_length)
        args, pos = _arguments(payload, pos, request_id, max_string_length)
    except (IndexError, ValueError, struct.error, BridgeError):
        return None
    return (op, request_id, session_id, target, args) if pos == len(payload) else None


def _ids(payload, session_length):
    """The session id and the prepared id (or function) after the header, and the offset after them."""
    pos = _HEAD.size + session_length
    session_id = payload[_HEAD.size:pos].decode("utf-8")
    (prepared_length,) = _U16.unpack_from(payload, pos)
    pos += 2 + prepared_length
    if pos > len(payload):
        raise ValueError("the frame ends inside its ids")
    return session_id, payload[pos - prepared_length:pos].decode("utf-8"), pos


def _arguments(payload, pos, request_id, max_string_length):
    count = payload[pos]
    pos += 1
    args = []
    for _ in range(count):
        tag = payload[pos]
        if tag == 0x64:  # d
            args.append(_F64.unpack_from(payload, pos + 1)[0])
            pos += 9
        elif tag == 0x71:  # q
            args.append(_I64.unpack_from(payload, pos + 1)[0])
            pos += 9
        elif tag == 0x73:  # s
            (length,) = _U32.unpack_from(payload, pos + 1)
            pos += 5 + length
            if pos > len(payload):
                raise ValueError("a string argument runs past the frame")
            text = payload[pos - length:pos].decode("utf-8")
            if len(text) > max_string_length:
                error = BridgeError("invalid_value", f"a str of length {len(text)} exceeds max_string_length={max_string_length}")
                error.request_id = request_id
                raise error
            args.append(text)
        elif tag in _CONSTANTS:
            args.append(_CONSTANTS[tag])
            pos += 1
        else:
            raise ValueError(f"unknown argument type tag {tag}")
    return args, pos

def _columns(request, payload, pos):
    """Reads execute_prepared's want and columns into ``request``; returns the offset after them."""
    want_code, rows, width = _EXECUTE.unpack_from(payload, pos)
    pos += _EXECUTE.size
    if want_code not in _WANTS:
        raise ValueError(f"unknown want code {want_code}")
    want, dtype = _WANTS[want_code]
    request["want"] = want
    if dtype:
        request["dtype"] = dtype
    columns = []
    for _ in range(width):
        code = _COLUMNS.get(payload[pos])
        if code is None:
            raise ValueError(f"unknown column type {payload[pos]}; known: d (float64), q (int64)")
        pos += 1 + rows * 8
        if pos > len(payload):
            raise ValueError("a column runs past the frame")
        column = array.array(code)
        column.frombytes(payload[pos - rows * 8:pos])
        if sys.byteorder != "little":
            column.byteswap()
        columns.append(column.tolist())
    request["columns"] = columns
    return pos


_FLOAT_ANSWER = struct.Struct("<BqBd")  # magic, request id, "d", value: the commonest answer in one pack
_INT_ANSWER = struct.Struct("<BqBq")


def scalar_response(request_id, result, limits):
    """The lean frame of a call's result where the general path would send the result as itself
    (Worker.encode_result: a finite float, an int, a bool, None, a str within max_string_length)
    and it has a lean form (LEAN-2, within the response caps); None otherwise."""
    cls = type(result)
    if cls is float:
        return _FLOAT_ANSWER.pack(MAGIC, request_id, 0x64, result) if result - result == 0 else None
    if cls is int:
        return _INT_ANSWER.pack(MAGIC, request_id, 0x71, result) if -(1 << 63) <= result < (1 << 63) else None
    if result is None or cls is bool or (cls is str and len(result) <= limits["max_string_length"]):
        return response(request_id, result, (), min(limits["max_frame_bytes"], limits["max_response_bytes"]))
    return None


def response(request_id, result, attachments_out, max_bytes):
    """The lean frame of an ok answer, or None where the answer must travel as JSON."""
    cls = type(result)
    head = _RESPONSE.pack(MAGIC, request_id)
    if cls is float:
        return head + b"d" + _F64.pack(result)
    if cls is int:
        return head + b"q" + _I64.pack(result) if -(1 << 63) <= result < (1 << 63) else None
    if result is None:
        return head + b"N"
    if cls is bool:
        return head + (b"T" if result else b"F")
    if cls is str:
        try:
            data = result.encode("utf-8")
        except UnicodeEncodeError:
            return None  # a lone surrogate: JSON's path says why it cannot be sent
        return head + b"s" + _U32.pack(len(data)) + data if len(data) + 14 <= max_bytes else None
    if cls is dict and result.get("errors") == {} and type(result.get("values")) is dict:
        return _array(head, result["values"], attachments_out, max_bytes)
    return None


def _array(head, values, attachments_out, max_bytes):
    dtype, shape = values.get("dtype"), values.get("shape")
    if dtype not in _DTYPE_CODES or type(shape) is not list or len(shape) != 1:
        return None
    if "attachment" in values:
        data = attachments_out[values["attachment"]]
    elif "data" in values:
        data = base64.b64decode(values["data"])
    else:
        return None
    nbytes = data.nbytes if type(data) is memoryview else len(data)
    if nbytes != shape[0] * _ITEM[dtype] or nbytes + 18 > max_bytes:
        return None
    return b"".join((head, b"A", _U8.pack(_DTYPE_CODES[dtype]), _U32.pack(shape[0]), data))
