"""The request loop. It is re-entrant: while a Java callback runs (PROTOCOL.md CB-*), the worker
keeps answering the requests the client sends it, until the callback's reply arrives."""
import itertools
import json
import os
import socket
import sys
import threading

from .callbacks import CallbackError
from .errors import BridgeError, to_wire
from . import lean
from .framing import FrameError, read_attachment, read_frame, write_frame
from .lean import LEAN
from .server_limits import IDLE_EXIT_STATUS
from .values import count_values, longest_string, over_cap, too_long, too_many_values


_LEAN_MAGIC = bytes([lean.MAGIC])


class StreamBroken(BaseException):
    """The protocol stream is out of step or gone: the worker must exit. A BaseException, so that
    user code catching Exception around a callback cannot swallow it."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


class Server:
    def __init__(self, proto_in, proto_out, worker, idle=None):
        """``idle``: None, or (the socket under the streams, seconds): the worker server's idle
        timeout (REMOTE-9)."""
        self._in = proto_in
        self._out = proto_out
        self._cids = itertools.count(1)
        self._idle = idle
        self.worker = worker
        worker.server = self

    def serve(self):
        """Answers requests until EOF. Returns the process exit status."""
        try:
            while True:
                message = self._next_message() if self._idle is None else self._next_request_unless_idle()
                if message is None:
                    return 0
                request = message[0]
                response, attachments = self.answer(*message)
                if type(request) is dict and LEAN in request and response["ok"] and self._send_lean(response, attachments):
                    continue
                self.send(response, attachments)
        except StreamBroken as broken:
            return broken.status

    def _next_request_unless_idle(self):
        """The next request, read with the idle timeout on the socket: a client that sends nothing
        for that long loses its worker (REMOTE-9). Only this read has it: a long call, a slow
        response and a callback's reply (the client is busy, not idle) are never cut short."""
        conn, seconds = self._idle
        conn.settimeout(seconds)
        try:
            return self._next_message()
        except socket.timeout:
            sys.stderr.write(f"snakebridge_worker: worker {os.getpid()} closed: no request for {seconds:g} s "
                             "(the server's --idle-timeout)\n")
            raise StreamBroken(IDLE_EXIT_STATUS) from None
        finally:
            conn.settimeout(None)

    def _next_message(self):
        """(request, attachments) of the next message, None at EOF. ``request`` is the decoded JSON,
        or a BridgeError for a frame that is not JSON (MSG-3: answered, and the loop goes on)."""
        limits = self.worker.limits
        payload = self._read_or_fail_stream(read_frame, self._in, limits["max_frame_bytes"])
        if payload is None:
            return None
        if payload[:1] == _LEAN_MAGIC:
            return self._lean_request(payload), ()
        try:
            request = _parse(payload.decode("utf-8"))
        except RecursionError:
            return BridgeError("protocol", "request nests too deeply to parse"), ()
        except ValueError as exc:  # invalid UTF-8, invalid JSON, or an int longer than max_int_digits
            if "integer string conversion" in str(exc):  # CPython's own words would point at sys.set_int_max_str_digits
                return BridgeError("protocol", f"request holds an integer longer than max_int_digits="
                                               f"{limits['max_int_digits']} decimal digits"), ()
            return BridgeError("protocol", f"request is not valid UTF-8 JSON: {exc}"), ()
        count = request.get("attachments", 0) if type(request) is dict else 0
        if type(count) is not int or not 0 <= count <= limits["max_attachments"]:
            # Without a trustworthy count the next frame cannot be found: say why, then close (ATT-3).
            self._fail_stream("protocol", f"attachments must be an integer from 0 to "
                                          f"max_attachments={limits['max_attachments']}, got {count!r}")
        attachments = [self._read_or_fail_stream(read_attachment, self._in, limits["max_frame_bytes"]) for _ in range(count)]
        if len(payload) > limits["max_string_length"]:  # only a frame this large can hold a string too long
            length = longest_string(_values_of(request), limits["max_string_length"])
            if length is not None:
                error = too_long("str", length, limits["max_string_length"])
                error.request_id = request.get("id") if type(request) is dict else None
                return error, ()
        return request, attachments

    def _lean_request(self, payload):
        """The request of a lean frame, or the protocol error that answers it (LEAN-1, LEAN-3)."""
        if not self.worker.lean:
            return BridgeError("protocol", "a lean frame from a client that did not list lean in its handshake's "
                                           "client_capabilities")
        try:
            return lean.parse_request(payload, self.worker.limits["max_string_length"])
        except BridgeError as error:
            return error

    def _send_lean(self, response, attachments):
        """Writes an ok answer to a lean request as a lean frame, if its result has a lean form (LEAN-2)."""
        limits = self.worker.limits
        data = lean.response(response["id"], response["result"], attachments,
                             min(limits["max_frame_bytes"], limits["max_response_bytes"]))
        if data is None:
            return False
        write_frame(self._out, data)
        return True

    def _read_or_fail_stream(self, read, *args):
        """``read(*args)``; a frame that cannot be read fails the stream (the peer is told why)."""
        try:
            return read(*args)
        except FrameError as exc:
            self._fail_stream(exc.code, str(exc))

    def _fail_stream(self, code, message):
        """The stream is out of step: say why, then close rather than guess at the next frame."""
        self.send({"id": None, "ok": False, "error": {"code": code, "message": message}})
        raise StreamBroken(2)

    def answer(self, request, attachments=()):
        """(response, its attachments) for one request."""
        if isinstance(request, BridgeError):
            request_id = getattr(request, "request_id", None)
            return _failure(request_id if type(request_id) is int else None, request), ()
        request_id = request.get("id") if type(request) is dict else None
        try:
            if type(request) is not dict:
                raise BridgeError("protocol", f"a request must be a JSON object, got {type(request).__name__}")
            if type(request_id) is not int:
                request_id = None
                raise BridgeError("protocol", "a request needs an integer id")
            result, attachments_out = self.worker.handle(request, attachments)
            return {"id": request_id, "ok": True, "result": result}, attachments_out
        except KeyboardInterrupt:
            failure = _failure(request_id, BridgeError("cancelled", "the call was interrupted (KeyboardInterrupt)"))
        except Exception as exc:  # a user's exception (a RecursionError too) is an answer, never the end of the worker
            failure = _failure(request_id, exc)
        return failure, ()

    def send(self, message, attachments=()):
        """Writes an answer. One that cannot be sent (past the client's caps, or a str holding a lone
        surrogate, an int past max_int_digits) is replaced by an invalid_value error saying why, the
        refs its result made are dropped, and the session goes on."""
        try:
            data = self._serialize(message, attachments)
        except _UNSENDABLE as exc:
            self.worker.rollback_last_result()
            attachments = ()
            error = exc if type(exc) is BridgeError else _unsendable(exc)
            data = json.dumps(_failure(message.get("id"), error), ensure_ascii=True, default=repr).encode("ascii")
        write_frame(self._out, data, attachments)

    def _serialize(self, message, attachments):
        """The message's JSON frame, checked with its attachments against the client's caps (FRAME-3,
        RESP-1, RESP-2): past one it is an error here, not a broken stream there."""
        if attachments:
            message["attachments"] = len(attachments)
        data = _dumps(message)
        if attachments or len(data) > self.worker.surely_fits:
            _check_caps(message, data, attachments, self.worker.limits)
        return data

    def call_back(self, callback, args, kwargs):
        """Runs a Java callback: sends the client a callback request, answers whatever the client
        asks meanwhile (it may call back into Python), and returns the callback's result."""
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("a SnakeBridge callback can only be called from the worker's main thread")
        worker = self.worker
        encoder = worker.encoder(callback.session_id, attachments=[])  # the callback request's own
        cid = next(self._cids)
        try:
            request = {"op": "callback", "cid": cid, "session_id": callback.session_id, "callback_id": callback.callback_id,
                       "args": encoder.encode(list(args)), "kwargs": encoder.encode(kwargs)}
            data = self._serialize(request, encoder.attachments)  # past the client's caps: raises here (RESP-3)
        except BaseException:
            worker.registry.discard(callback.session_id, encoder.new_ref_ids)  # never sent: the client cannot release them
            raise
        with worker.uninterruptible():
            write_frame(self._out, data, encoder.attachments)
            while True:
                message = self._next_message()
                if message is None:
                    raise StreamBroken(0)  # the client left while its callback ran
                reply, attachments = message
                if not _is_callback_reply(reply):
                    self.send(*self.answer(reply, attachments))  # the callback calls back into Python
                    continue
                if reply.get("cid") != cid:
                    raise BridgeError("protocol", f"callback reply for cid {reply.get('cid')!r} while waiting for {cid}")
                break
        if reply.get("ok"):
            return worker.decoder(callback.session_id, attachments).decode(reply.get("result"))
        error = reply.get("error") if type(reply.get("error")) is dict else {}
        raise CallbackError(error.get("type", "java.lang.Throwable"), error.get("message", ""), error.get("java_error_id"))


_VALUE_FIELDS = ("args", "kwargs", "value", "result", "rows", "columns")


def _values_of(message):
    """The values a message carries (VAL-LIM-3 caps these, not protocol fields such as ids)."""
    if type(message) is not dict:
        return None
    values = [message.get(field) for field in _VALUE_FIELDS]
    calls = message.get("calls")
    if type(calls) is list:
        values.extend(_values_of(call) for call in calls)
    return values


# What makes a message unsendable: a cap (a BridgeError saying which), or what JSON cannot express.
_UNSENDABLE = (BridgeError, ValueError, TypeError, UnicodeEncodeError, RecursionError)


def _unsendable(exc):
    """Why a message cannot be written, in words about the value: never the message itself (a
    UnicodeEncodeError's repr holds the whole frame being written)."""
    if isinstance(exc, UnicodeEncodeError):
        char = exc.object[exc.start]
        return BridgeError("invalid_value", f"the result holds a str with a lone surrogate (U+{ord(char):04X}), which "
                                            "UTF-8 cannot carry; request it as a ref, or encode it in Python "
                                            "(errors='surrogatepass') and return bytes")
    return BridgeError("invalid_value", f"result cannot be sent: {type(exc).__name__}: {str(exc)[:200]}")


def _check_caps(message, data, attachments, limits):
    """Raises the invalid_value error of the first cap the message (its JSON ``data`` and its attachment
    frames) exceeds: the client's frame size, total bytes, or JSON values."""
    total = 0
    for frame in (data, *attachments):
        size = frame.nbytes if type(frame) is memoryview else len(frame)
        if size > limits["max_frame_bytes"]:
            raise over_cap(f"a frame of {size} bytes", "max_frame_bytes", limits["max_frame_bytes"])
        total += size
    if total > limits["max_response_bytes"]:
        raise over_cap(f"a message of {total} bytes (its JSON and attachments)", "max_response_bytes",
                       limits["max_response_bytes"])
    max_values = limits["max_response_elements"]
    if len(data) > max_values and count_values(message, max_values) > max_values:
        raise too_many_values(max_values)


def _is_callback_reply(message):
    return type(message) is dict and "cid" in message and "op" not in message


def _failure(request_id, exc):
    return {"id": request_id, "ok": False, "error": to_wire(exc)}


def _make_parse():
    """json.loads without its per-call wrapper (a regex for surrounding whitespace, type checks):
    the C scanner reads the whole text in one call, as it does for every request a driver writes.
    Anything else (whitespace around the JSON, trailing data, invalid JSON) goes to json.loads,
    so its result and its error message stay exactly json.loads's."""
    scan = json.JSONDecoder().scan_once

    def parse(text):
        try:
            value, end = scan(text, 0)
            if end == len(text):
                return value
        except (StopIteration, ValueError):
            pass
        return json.loads(text)
    return parse


_parse = _make_parse()


def _make_dumps():
    """The fastest exact JSON writer this interpreter has. JSONEncoder.encode builds a new C encoder
    for every message (half its cost for a small response), so one is built once and reused where
    the C accelerator has the signature we know; elsewhere, one reused JSONEncoder. No cycle check
    (markers=None): results are acyclic by construction (the encoder refuses cycles), and a cycle
    anywhere else ends in RecursionError, which send() reports."""
    encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    def portable(message):
        return encoder.encode(message).encode("utf-8")
    try:
        from json.encoder import c_make_encoder, encode_basestring
        c_encode = c_make_encoder(None, encoder.default, encode_basestring, None, ":", ",", False, False, False)

        def fast(message):
            return "".join(c_encode(message, 0)).encode("utf-8")
        probe = {"k": [1, 1.5, "\u00e9", None, True]}
        if fast(probe) == portable(probe):
            return fast
    except (ImportError, TypeError):
        pass
    return portable


_dumps = _make_dumps()
