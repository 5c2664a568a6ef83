"""A hostile TLS 1.3 client for test_forkserver_remote (REMOTE-12), run as its own process: it connects to
the worker server on 127.0.0.1:PORT (trusting CA_FILE), completes the handshake, sends no application
byte and no token, and floods KeyUpdate(update_requested) messages until the server closes the
connection or SECONDS pass. Python's ssl module cannot send a KeyUpdate: this calls OpenSSL's
SSL_key_update through ctypes on the SSL* inside the SSLSocket (CPython's layout), so it first checks
that the libssl it loads is the one the ssl module runs on. Prints "flooding" once the first update is
out, then a JSON line: {"updates": n, "closed": bool, "seconds": since the first update}; or
"unsupported: why" and exits 0 where this cannot run."""
import ctypes
import ctypes.util
import json
import os
import select
import socket
import ssl
import sys
import time


def libssl():
    name = ctypes.util.find_library("ssl")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    lib.OpenSSL_version_num.restype = ctypes.c_ulong
    if lib.OpenSSL_version_num() != ssl.OPENSSL_VERSION_NUMBER:
        return None  # another libssl than the ssl module's: its SSL* is not this one's
    lib.SSL_key_update.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.SSL_do_handshake.argtypes = [ctypes.c_void_p]
    lib.SSL_version.argtypes = [ctypes.c_void_p]
    return lib


def ssl_pointer(sock):
    """The SSL* of an SSLSocket: the field after PyObject_HEAD and the socket's weak reference of
    CPython's PySSLSocket (_ssl.c)."""
    return ctypes.c_void_p.from_address(id(sock._sslobj) + 3 * ctypes.sizeof(ctypes.c_void_p)).value


def main(port, ca_file, seconds):
    lib = libssl()
    if lib is None:
        print("unsupported: no libssl of the ssl module's version to call", flush=True)
        return 0
    context = ssl.create_default_context(cafile=ca_file)
    sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="127.0.0.1")
    pointer = ssl_pointer(sock)
    if sock.version() != "TLSv1.3" or lib.SSL_version(pointer) != 0x0304:
        print("unsupported: not the SSL* of a TLS 1.3 connection", flush=True)
        return 0
    fd = sock.fileno()
    os.set_blocking(fd, False)
    updates, closed, start = 0, False, None
    end = time.monotonic() + seconds
    while not closed and time.monotonic() < end:
        try:
            while True:  # the server's answers (its KeyUpdates) are read raw and dropped: only its end matters
                if not os.read(fd, 65536):
                    closed = True
                    break
        except BlockingIOError:
            pass
        except OSError:  # reset: the server closed with our updates unread
            closed = True
        if closed:
            break
        if lib.SSL_key_update(pointer, 1) != 1:  # SSL_KEY_UPDATE_REQUESTED
            closed = True  # OpenSSL refuses once the connection has failed
            break
        if lib.SSL_do_handshake(pointer) == 1:  # sends it
            updates += 1
            if start is None:
                start = time.monotonic()
                print("flooding", flush=True)
        else:
            select.select([], [fd], [], 0.05)
    if start is None:
        start = time.monotonic()
        print("flooding", flush=True)
    print(json.dumps({"updates": updates, "closed": closed, "seconds": time.monotonic() - start}), flush=True)
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), sys.argv[2], float(sys.argv[3])))
