"""A remote worker's stderr as its server reads it from the worker's pipe (PROTOCOL.md REMOTE-11):
escaped and capped as the driver escapes a local worker's output, logged by the server, and the last
lines kept for the end event that goes to the worker's client alone."""
import codecs
import collections
import json
import re
import sys
import time

# Kept and logged as the driver keeps and logs a local worker's output (native-shim StderrPump,
# CappedLineReader): lines escaped and capped, the last ones kept for its client.
STDERR_TAIL_LINES = 40
STDERR_LINE_CHARS = 4096  # after escaping; a longer line keeps its start and its end around a note of the cut
STDERR_LOG_LINES_PER_SECOND = 500  # of one worker, to the server's log; the rest are counted and summarized
END_EVENT_MAX_BYTES = 65536  # a remote worker's end event with its stderr lines; its oldest lines make room


class WorkerStderr:
    """A remote worker's stderr as the server reads it from the worker's pipe (REMOTE-11): each line is
    escaped and capped, written to the server's stderr (the operator's log) as ``[worker PID] line``,
    at most STDERR_LOG_LINES_PER_SECOND a second (the rest counted, then summarized), and the last
    STDERR_TAIL_LINES are kept for the worker's end event. A line is never held whole: past twice
    the cap, only its start and its end are."""

    __slots__ = ("pid", "fd", "at_end", "tail", "_decoder", "_partial", "_cut", "_window_start", "_logged", "_suppressed")

    def __init__(self, pid, fd):
        self.pid = pid
        self.fd = fd
        self.at_end = False
        self.tail = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._decoder = codecs.getincrementaldecoder("utf-8")("backslashreplace")
        self._partial = ""
        self._cut = 0
        self._window_start = time.monotonic()
        self._logged = 0
        self._suppressed = 0

    def take(self, data):
        text = self._decoder.decode(data)
        start = 0
        while True:
            newline = text.find("\n", start)
            if newline < 0:
                self._extend(text[start:])
                return
            self._extend(text[start:newline])
            self._line_done()
            start = newline + 1

    def ended(self):
        """End of the stream: a last line without its newline still counts; the summary is written."""
        self.at_end = True
        self._extend(self._decoder.decode(b"", final=True))
        if self._partial or self._cut:
            self._line_done()
        self._report_suppressed()

    def _extend(self, text):
        self._partial += text
        if len(self._partial) > 2 * STDERR_LINE_CHARS:  # keep the start and the latest end, count the middle
            self._cut += len(self._partial) - 2 * STDERR_LINE_CHARS
            self._partial = self._partial[:STDERR_LINE_CHARS] + self._partial[-STDERR_LINE_CHARS:]

    def _line_done(self):
        raw = self._partial[:-1] if self._partial.endswith("\r") else self._partial  # "\r\n" ends a line like "\n"
        line = _capped_line(raw, self._cut)
        self._partial, self._cut = "", 0
        self.tail.append(line)
        now = time.monotonic()
        if now - self._window_start >= 1.0:
            self._report_suppressed()
            self._window_start, self._logged = now, 0
        if self._logged < STDERR_LOG_LINES_PER_SECOND:
            self._logged += 1
            _log(f"[worker {self.pid}] {line}")
        else:
            self._suppressed += 1

    def _report_suppressed(self):
        if self._suppressed:
            _log(f"[worker {self.pid}] suppressed {self._suppressed} lines of output"
                 f" (more than {STDERR_LOG_LINES_PER_SECOND} lines a second)")
            self._suppressed = 0


# What a log viewer or terminal could act on, as the driver's CappedLineReader.needsEscape: C0 controls
# but tab, DEL, C1 controls, the line and paragraph separators, the bidirectional overrides and isolates.
_NEEDS_ESCAPE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape_char(match):
    c = ord(match.group())
    return "\\r" if c == 0x0D else f"\\x{c:02x}" if c <= 0xFF else f"\\u{c:04x}"


def _escaped(text):
    return _NEEDS_ESCAPE.sub(_escape_char, text)


def _capped_line(text, cut=0):
    """``text`` escaped, and if that is longer than STDERR_LINE_CHARS (or ``cut`` characters were
    dropped from its middle already), its start and end around `` ... [N chars cut] ... ``."""
    escaped = _escaped(text)
    if not cut and len(escaped) <= STDERR_LINE_CHARS:
        return escaped
    head_budget = STDERR_LINE_CHARS - STDERR_LINE_CHARS // 2
    end_budget = STDERR_LINE_CHARS // 2
    head, used, i = [], 0, 0
    while i < len(text):
        piece = _escaped(text[i])
        if used + len(piece) > head_budget:
            break
        head.append(piece)
        used += len(piece)
        i += 1
    end, used, j = [], 0, len(text)
    while j > i:
        piece = _escaped(text[j - 1])
        if used + len(piece) > end_budget:
            break
        end.append(piece)
        used += len(piece)
        j -= 1
    cut += j - i
    note = f" ... [{cut} {'char' if cut == 1 else 'chars'} cut] ... " if cut else ""
    return "".join(head) + note + "".join(reversed(end))


def end_event(event, stderr_tail):
    """SRV-4's event, with the worker's last stderr lines for its client when it wrote any (REMOTE-11),
    oldest dropped first until the line fits END_EVENT_MAX_BYTES."""
    if not stderr_tail:
        return event
    lines = list(stderr_tail)
    while lines:
        full = dict(event, stderr=lines)
        if len(json.dumps(full)) + 1 <= END_EVENT_MAX_BYTES:
            return full
        lines = lines[1:]
    return event


def _log(line):
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # the server's own log is gone: the lines stay kept for the clients all the same
