"""Length-prefixed frames: a 4-byte big-endian unsigned length, then that many payload bytes."""
import struct

HEADER = struct.Struct(">I")  # a frame's length


class FrameError(Exception):
    """The byte stream cannot be trusted any more; the worker closes after reporting it."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def read_frame(stream, max_bytes):
    """Returns the next payload, or None on a clean EOF between frames. Every request's first step:
    a buffered stream returns all the bytes asked for unless it ends, so the common case is two reads."""
    header = stream.read(HEADER.size)
    if len(header) != HEADER.size:
        header = _read_rest(stream, header, HEADER.size)
        if header is None:
            return None
    (length,) = HEADER.unpack(header)
    if length > max_bytes:
        raise FrameError("frame_too_large", f"frame of {length} bytes exceeds max_frame_bytes={max_bytes}")
    if not length:
        return b""
    payload = stream.read(length)
    if len(payload) != length:
        payload = _read_rest(stream, payload, length)
        if payload is None:
            raise FrameError("protocol", f"stream ended inside a frame of {length} bytes")
    return payload


def read_attachment(stream, max_bytes):
    """The next frame, as an attachment (PROTOCOL.md ATT-*): read into a bytearray, so that an
    array decoded from it is writable without a copy."""
    header = _read_exact(stream, HEADER.size)
    if header is None:
        raise FrameError("protocol", "stream ended before a message's attachment frames")
    (length,) = HEADER.unpack(header)
    if length > max_bytes:
        raise FrameError("frame_too_large", f"attachment of {length} bytes exceeds max_frame_bytes={max_bytes}")
    buffer = bytearray(length)
    view = memoryview(buffer)
    filled = 0
    while filled < length:
        n = stream.readinto(view[filled:])
        if not n:
            raise FrameError("protocol", f"stream ended after {filled} of {length} attachment bytes")
        filled += n
    return buffer


def write_frame(stream, payload, attachments=()):
    """Writes one message: its JSON frame, then one frame per attachment (bytes-like, any size
    up to the maximum), and flushes once."""
    if not attachments:
        stream.write(HEADER.pack(len(payload)) + payload)
    else:
        stream.write(HEADER.pack(len(payload)))
        stream.write(payload)
        for attachment in attachments:
            stream.write(HEADER.pack(attachment.nbytes if type(attachment) is memoryview else len(attachment)))
            stream.write(attachment)
    stream.flush()


def _read_exact(stream, n):
    return _read_rest(stream, stream.read(n), n)


def _read_rest(stream, chunk, n):
    """``chunk``, the first read of ``n`` bytes, completed; None if the stream ended before any byte."""
    if len(chunk) == n:
        return chunk
    if not chunk:
        return None
    chunks = [chunk]
    remaining = n - len(chunk)
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise FrameError("protocol", f"stream ended after {n - remaining} of {n} bytes")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
