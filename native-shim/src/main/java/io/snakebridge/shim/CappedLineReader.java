package io.snakebridge.shim;

import java.io.IOException;
import java.io.Reader;

/**
 * Reads a worker's output as lines that are safe to put in a log. A line ends only at {@code '\n'}
 * (a {@code '\r'} just before it is dropped), so a bare {@code '\r'} cannot start a line of its own;
 * control characters are escaped visibly; and a line longer than {@code maxChars} keeps its start and
 * its end (where a traceback names its exception) around a note of how much was cut. However long
 * the worker's line, no more than {@code maxChars} of it is ever held.
 */
final class CappedLineReader {
    private final Reader in;
    private final int headChars;
    private final char[] buffer = new char[8192];
    private int position;
    private int limit;
    /** The start of the current line, escaped. */
    private final StringBuilder head = new StringBuilder();
    private boolean headFull;
    /** The raw rest of the current line once its head is full: a ring of its last characters. */
    private final char[] end;
    /** Characters that went to the ring; the last {@code end.length} of them are there. */
    private long endCount;

    CappedLineReader(Reader in, int maxChars) {
        this.in = in;
        this.headChars = maxChars - maxChars / 2;
        this.end = new char[maxChars / 2];
    }

    /** The next line, escaped and capped; null at the end of the stream. */
    String readLine() throws IOException {
        head.setLength(0);
        headFull = false;
        endCount = 0;
        boolean pendingCr = false;
        boolean sawAnything = false;
        while (true) {
            if (position == limit && !fill()) {
                if (!sawAnything) {
                    return null;
                }
                break;
            }
            char c = buffer[position++];
            sawAnything = true;
            if (c == '\n') {
                pendingCr = false; // "\r\n" ends a line like "\n"
                break;
            }
            if (pendingCr) {
                add('\r'); // a '\r' not followed by '\n' is part of the line
            }
            pendingCr = c == '\r';
            if (!pendingCr) {
                add(c);
            }
        }
        if (pendingCr) {
            add('\r'); // the stream ended just after it
        }
        return endCount == 0 ? head.toString() : headCutEnd();
    }

    private void add(char c) {
        if (!headFull) {
            if (head.length() + escapedLength(c) <= headChars) {
                appendEscaped(head, c);
                return;
            }
            headFull = true;
        }
        end[(int) (endCount++ % end.length)] = c;
    }

    private boolean fill() throws IOException {
        int n = in.read(buffer);
        if (n <= 0) {
            return false;
        }
        position = 0;
        limit = n;
        return true;
    }

    /** The head, a note of what was cut if anything was, and as many of the last characters (escaped) as fit in the rest of the cap. */
    private String headCutEnd() {
        int held = (int) Math.min(endCount, end.length);
        int budget = end.length;
        int kept = 0;
        int width = 0;
        while (kept < held) {
            char c = end[(int) ((endCount - 1 - kept) % end.length)];
            if (width + escapedLength(c) > budget) {
                break;
            }
            width += escapedLength(c);
            kept++;
        }
        long cut = endCount - kept;
        StringBuilder line = new StringBuilder(head.length() + width + 40).append(head);
        if (cut > 0) {
            line.append(" ... [").append(cut).append(cut == 1 ? " char" : " chars").append(" cut] ... ");
        }
        for (long i = endCount - kept; i < endCount; i++) {
            appendEscaped(line, end[(int) (i % end.length)]);
        }
        return line.toString();
    }

    /**
     * Characters a log viewer or terminal could act on: C0 controls but tab, DEL, C1 controls, the
     * Unicode line and paragraph separators, and the bidirectional overrides and isolates (which
     * can make a line read differently from what it holds).
     */
    static boolean needsEscape(char c) {
        return (c < 0x20 && c != '\t') || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029'
                || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069');
    }

    private static int escapedLength(char c) {
        if (!needsEscape(c)) {
            return 1;
        }
        return c == '\r' ? 2 : c <= 0xff ? 4 : 6;
    }

    /** {@code \r}, {@code \xNN} up to U+00FF, <code>&#92;uNNNN</code> above: visible, not meant to be reversed. */
    static void appendEscaped(StringBuilder out, char c) {
        if (!needsEscape(c)) {
            out.append(c);
        } else if (c == '\r') {
            out.append("\\r");
        } else if (c <= 0xff) {
            out.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
        } else {
            out.append(String.format("\\u%04x", (int) c));
        }
    }
}
