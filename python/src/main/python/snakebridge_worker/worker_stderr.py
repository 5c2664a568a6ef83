"""A remote worker's stderr as its server reads it from the worker's pipe (PROTOCOL.md REMOTE-11):
escaped and capped as the driver escapes a local worker's output, logged by the server, and the last
lines kept for the end event that goes to the worker's client alone."""
import codecs
import collections
import json
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
        """Takes what the worker wrote. Past the second's log budget a line is only counted, and of those
        only the ones that can still be among the last STDERR_TAIL_LINES are escaped and capped: a flood
        costs a scan of its bytes, not work for each of its lines (REMOTE-11)."""
        text = self._decoder.decode(data)
        newlines = text.count("\n")
        if not newlines:
            self._extend(text)
            return
        first, _, rest = text.partition("\n")
        self._extend(first)
        self._line_done()
        complete = newlines - 1  # whole lines in rest, before its unfinished last one
        self._roll_window()
        logged = min(complete, max(0, STDERR_LOG_LINES_PER_SECOND - self._logged))
        if logged:
            *lines, rest = rest.split("\n", logged)
            for line in lines:
                self._extend(line)
                self._line_done()
        over = complete - logged
        if over:
            kept = min(over, STDERR_TAIL_LINES)
            *lines, rest = rest.rsplit("\n", kept + 1)  # [earlier lines,] the last kept lines, the unfinished one
            self._suppressed += over - kept  # never escaped: they could not be among the last lines
            for line in lines[-kept:]:
                self._line_finished(_capped_line(_without_cr(line)))
        self._extend(rest)

    def over_budget(self):
        """Whether this worker has written its STDERR_LOG_LINES_PER_SECOND lines in the current second:
        the server then stops reading its pipe until resume_at(), so a flood blocks its own writer."""
        return self._logged >= STDERR_LOG_LINES_PER_SECOND and time.monotonic() - self._window_start < 1.0

    def resume_at(self):
        """When the current second ends (time.monotonic())."""
        return self._window_start + 1.0

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
        line = _capped_line(_without_cr(self._partial), self._cut)
        self._partial, self._cut = "", 0
        self._line_finished(line)

    def _line_finished(self, line):
        self.tail.append(line)
        self._roll_window()
        if self._logged < STDERR_LOG_LINES_PER_SECOND:
            self._logged += 1
            _log(f"[worker {self.pid}] {line}")
        else:
            self._suppressed += 1

    def _roll_window(self):
        now = time.monotonic()
        if now - self._window_start >= 1.0:
            self._report_suppressed()
            self._window_start, self._logged = now, 0

    def _report_suppressed(self):
        if self._suppressed:
            _log(f"[worker {self.pid}] suppressed {self._suppressed} lines of output"
                 f" (more than {STDERR_LOG_LINES_PER_SECOND} lines a second)")
            self._suppressed = 0


# What a log viewer or terminal could act on, as the driver's CappedLineReader.needsEscape: C0 controls
# but tab, DEL, C1 controls, the line and paragraph separators, the bidirectional overrides and isolates.
# One translation table: str.translate escapes a whole slice in C, not a Python call per character.
_ESCAPES = {c: "\\r" if c == 0x0D else f"\\x{c:02x}" if c <= 0xFF else f"\\u{c:04x}"
            for c in (*range(0x00, 0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029,
                      *range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def _escaped(text):
    return text.translate(_ESCAPES)


def _without_cr(line):
    return line[:-1] if line.endswith("\r") else line  # "\r\n" ends a line like "\n"


def _capped_line(text, cut=0):
    """``text`` escaped, and if that is longer than STDERR_LINE_CHARS (or ``cut`` characters were
    dropped from its middle already), its start and end around `` ... [N chars cut] ... ``: the longest
    start and end whose escapes fit their halves, found by bisection (a few regex calls, not one a
    character: a line of control characters costs no more than any other)."""
    escaped = _escaped(text)
    if not cut and len(escaped) <= STDERR_LINE_CHARS:
        return escaped
    head_budget = STDERR_LINE_CHARS - STDERR_LINE_CHARS // 2
    end_budget = STDERR_LINE_CHARS // 2
    i = _longest(min(len(text), head_budget), lambda n: len(_escaped(text[:n])) <= head_budget)
    rest = len(text) - i
    kept_end = _longest(min(rest, end_budget), lambda n: len(_escaped(text[len(text) - n:])) <= end_budget)
    j = len(text) - kept_end
    cut += j - i
    note = f" ... [{cut} {'char' if cut == 1 else 'chars'} cut] ... " if cut else ""
    return _escaped(text[:i]) + note + _escaped(text[j:])


def _longest(most, fits):
    """The largest n in 0..most with fits(n), fits being true up to some n and false after it
    (a character's escape is never shorter than the character)."""
    low, high = 0, most
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


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
