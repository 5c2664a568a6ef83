"""The lean encoding (PROTOCOL.md LEAN-*): prepared calls without JSON on either side.

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
_OPS = {1: "call_prepared", 2: "execute_prepared"}
# want codes of execute_prepared: code -> (want, dtype)
_WANTS = {0: ("value", None), 1: ("none", None), 2: ("array", "float64"), 3: ("array", "int64"), 4: ("array", "int32"),
          5: ("array", "float32"), 6: ("array", "bool")}
_DTYPE_CODES = {dtype: code for code, (want, dtype) in _WANTS.items() if dtype}
_COLUMNS = {ord("d"): "d", ord("q"): "q"}  # column type -> array.array code (8-byte items)
_ITEM = {"float64": 8, "int64": 8, "int32": 4, "float32": 4, "bool": 1}


class _Frame:
    """A cursor over one frame's bytes: every read is checked against what is left."""
    __slots__ = ("data", "pos", "request_id")

    def __init__(self, data):
        self.data = data
        self.pos = 0
        self.request_id = None

    def take(self, n):
        end = self.pos + n
        if end > len(self.data):
            raise self.error(f"lean frame ends after {len(self.data)} bytes; {end} needed")
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def unpack(self, fmt):
        return fmt.unpack(self.take(fmt.size))

    def text(self, n, what):
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.error(f"{what} is not valid UTF-8: {exc}") from None

    def error(self, message):
        error = BridgeError("protocol", message)
        error.request_id = self.request_id
        return error


def parse_request(payload, max_string_length):
    """The request a lean frame carries, as a dict like its JSON twin; raises a protocol
    BridgeError (with ``request_id`` once the id is known) for a frame that is not well-formed."""
    frame = _Frame(payload)
    magic, op, request_id, session_length = frame.unpack(_HEAD)
    frame.request_id = request_id
    if magic != MAGIC or op not in _OPS:
        raise frame.error(f"lean frame has unknown op code {op}; known: {_OPS}")
    request = {"id": request_id, "op": _OPS[op], "session_id": frame.text(session_length, "session id"), LEAN: True}
    (prepared_length,) = frame.unpack(_U16)
    request["prepared"] = frame.text(prepared_length, "prepared id")
    if op == 1:
        (count,) = frame.unpack(_U8)
        request["args"] = [_scalar(frame, max_string_length) for _ in range(count)]
    else:
        want_code, rows, width = frame.unpack(struct.Struct("<BIB"))
        if want_code not in _WANTS:
            raise frame.error(f"lean execute_prepared has unknown want code {want_code}")
        want, dtype = _WANTS[want_code]
        request["want"] = want
        if dtype:
            request["dtype"] = dtype
        request["columns"] = [_column(frame, rows) for _ in range(width)]
    if frame.pos != len(payload):
        raise frame.error(f"lean frame has {len(payload) - frame.pos} bytes after its last field")
    return request


def _scalar(frame, max_string_length):
    (tag,) = frame.unpack(_U8)
    if tag == 0x64:  # d
        return frame.unpack(_F64)[0]
    if tag == 0x71:  # q
        return frame.unpack(_I64)[0]
    if tag == 0x73:  # s
        (length,) = frame.unpack(_U32)
        text = frame.text(length, "a string argument")
        if len(text) > max_string_length:
            error = BridgeError("invalid_value", f"a str of length {len(text)} exceeds max_string_length={max_string_length}")
            error.request_id = frame.request_id
            raise error
        return text
    if tag == 0x54:  # T
        return True
    if tag == 0x46:  # F
        return False
    if tag == 0x4E:  # N
        return None
    raise frame.error(f"lean argument has unknown type tag {tag}")


def _column(frame, rows):
    (kind,) = frame.unpack(_U8)
    code = _COLUMNS.get(kind)
    if code is None:
        raise frame.error(f"lean column has unknown type {kind}; known: d (float64), q (int64)")
    column = array.array(code)
    column.frombytes(frame.take(rows * 8))  # take() checks the length against the frame first
    if sys.byteorder != "little":
        column.byteswap()
    return column.tolist()


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
