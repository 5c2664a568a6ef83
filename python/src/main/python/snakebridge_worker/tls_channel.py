"""A server-side TLS connection whose cryptography runs on memory buffers (``ssl.MemoryBIO``), not on the
socket (REMOTE-12). An ``ssl.SSLSocket`` lets OpenSSL read the socket itself, and a read goes on for as
long as records that carry no application data keep arriving: a client flooding TLS 1.3 KeyUpdates held
the worker server's single thread inside one ``recv``, past every deadline. Here the server's loop hands
OpenSSL at most ``_PULL_BYTES`` of the socket per wake-up, so its work per wake-up is bounded and the
loop's deadlines run. A forked worker (its own process) reads and writes the same connection blocking,
through ``makefile``."""
import io
import socket
import ssl
import time

_PULL_BYTES = 16384  # socket bytes OpenSSL may work on per wake-up of the server's loop: a record or so
_WORKER_READ_BYTES = 65536  # socket bytes per read of a forked worker (its own process: fewer system calls)
_WRITE_BYTES = 262144  # plaintext encrypted at a time: a large attachment is not copied whole into the TLS buffer
_UNSENT_MAX = 65536  # TLS bytes a peer that does not read may leave queued here before the connection ends


class TlsChannel:
    """TLS over the connected socket ``sock`` as a server of ``context``, offering what the worker
    server uses of a socket: ``fileno`` (for its selector), ``do_handshake`` and ``receive`` (bounded,
    non-blocking), ``sendall``, ``setblocking``/``settimeout``, ``makefile`` (for the forked worker)
    and ``close``."""

    def __init__(self, context, sock):
        self._sock = sock
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self._unsent = b""  # TLS bytes made but not yet taken by a non-blocking socket
        self.read_deadline = None  # recv_into's, for the whole call (the worker's idle timeout, REMOTE-9)

    def fileno(self):
        return self._sock.fileno()

    def setblocking(self, flag):
        self._sock.setblocking(flag)

    def settimeout(self, seconds):
        self._sock.settimeout(seconds)

    def gettimeout(self):
        return self._sock.gettimeout()

    def getpeercert(self, binary_form=False):
        return self._tls.getpeercert(binary_form)

    def close(self):
        self._sock.close()

    def do_handshake(self):
        """One step of the handshake on at most one socket read. Raises ``ssl.SSLWantReadError`` (or
        ``ssl.SSLWantWriteError``, when the socket has not taken the answer yet) until it is done."""
        self._pull()
        try:
            self._tls.do_handshake()
        finally:
            self._flush()
        if self._unsent:
            raise ssl.SSLWantWriteError("the handshake's answer is not all sent")

    def receive(self):
        """The application bytes that one socket read (at most ``_PULL_BYTES``) and what was already
        buffered yield: b"" once the peer has ended (a ragged end too). Raises ``BlockingIOError``
        if there are none yet, ``OSError`` if the peer has left too much of ours unread."""
        self._pull()
        chunks = []
        try:
            while True:
                chunk = self._tls.read(_PULL_BYTES)
                if not chunk:
                    chunks.append(b"")
                    break
                chunks.append(chunk)
        except ssl.SSLWantReadError:
            pass
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            chunks.append(b"")  # the end, after what came before it
        finally:
            self._flush()  # what reading made: KeyUpdate answers, session tickets
        if not chunks:
            raise BlockingIOError("no application data yet")
        return b"".join(chunks)

    def sendall(self, data):
        """Encrypts ``data`` and sends it: blocking, with the socket's timeout, or, on a non-blocking
        socket, whatever it takes now, the rest queued for later sends (``OSError`` past ``_UNSENT_MAX``)."""
        with memoryview(data) as view, view.cast("B") as octets:
            for start in range(0, max(len(octets), 1), _WRITE_BYTES):
                self._tls.write(octets[start:start + _WRITE_BYTES])
                self._flush()

    def send(self, data):
        """Non-blocking, as a socket's send: BlockingIOError while earlier bytes still wait for the socket;
        else encrypts all of ``data``, sends what the socket takes and keeps the rest (``unsent``) for
        the next send or ``send(b"")``. Returns ``len(data)``."""
        if self._unsent:
            self._flush()
            if self._unsent:
                raise BlockingIOError("earlier bytes wait for the socket")
        if data:
            self._tls.write(data)
        self._flush(bounded=False)  # the caller holds back the rest until these are taken
        return len(data)

    @property
    def unsent(self):
        """How many encrypted bytes wait for the socket to take them."""
        return len(self._unsent)

    def makefile(self, mode, buffering):
        """A buffered binary reader ("rb") or writer ("wb") over this channel, for a blocking socket."""
        raw = _RawChannel(self)
        return io.BufferedReader(raw, buffering) if "r" in mode else io.BufferedWriter(raw, buffering)

    def _pull(self):
        """One socket read of at most ``_PULL_BYTES`` into the incoming buffer (none if there are none)."""
        try:
            data = self._sock.recv(_PULL_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # reset: the end
            data = b""
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()

    def _flush(self, bounded=True):
        self._unsent += self._outgoing.read()
        if not self._unsent:
            return
        if self._sock.gettimeout() != 0.0:  # blocking, or with a timeout: the socket waits
            unsent, self._unsent = self._unsent, b""
            self._sock.sendall(unsent)
            return
        while self._unsent:
            try:
                sent = self._sock.send(self._unsent)
            except (BlockingIOError, InterruptedError):
                break
            self._unsent = self._unsent[sent:]
        if bounded and len(self._unsent) > _UNSENT_MAX:
            raise ConnectionError("the peer does not read what this server sends")

    def recv_into(self, buffer):
        """Blocking, as a socket's: fills some of ``buffer``; 0 at the end. The socket's timeout raises
        ``socket.timeout`` for each socket read, and ``read_deadline`` (a time.monotonic(), when set)
        for the whole call: a record sent a byte at a time must not hold a read past it."""
        while True:
            try:
                count = self._tls.read(len(buffer), buffer)
            except ssl.SSLWantReadError:
                self._flush()
                if self.read_deadline is not None:
                    left = self.read_deadline - time.monotonic()
                    if left <= 0:
                        raise socket.timeout("the read's deadline passed") from None
                    self._sock.settimeout(left)
                data = self._sock.recv(_WORKER_READ_BYTES)
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
                continue
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                count = 0
            self._flush()
            return count


class _RawChannel(io.RawIOBase):
    """The raw stream ``makefile`` buffers."""

    def __init__(self, channel):
        super().__init__()
        self._channel = channel

    def readable(self):
        return True

    def writable(self):
        return True

    def readinto(self, buffer):
        return self._channel.recv_into(buffer)

    def write(self, data):
        self._channel.sendall(data)
        return len(data)
