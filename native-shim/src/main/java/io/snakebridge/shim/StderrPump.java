package io.snakebridge.shim;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Reads everything a worker writes to stderr, to the end, and logs it safely: each line escaped and
 * capped ({@link CappedLineReader}), at most {@link #MAX_LINES_PER_SECOND} lines a second logged
 * (the rest counted and summarized, never left unread: a worker must not block on a full pipe), and
 * the last {@link #TAIL_LINES} lines kept for crash messages.
 *
 * <p>A line the worker's Python {@code logging} wrote (snakebridge_worker/logs.py) has the form
 * {@code snakebridge-log <nonce> <levelno> <logger> <message>} and keeps its level and logger; the
 * nonce, fresh for each process and given to it in {@link #NONCE_VARIABLE}, is what tells such a
 * line from output that imitates it (a {@code print} of untrusted data). Any other line is plain
 * output, logged at INFO under {@link #OUTPUT_LOGGER}: in a worker, {@code print()} writes here too.
 */
final class StderrPump implements Runnable {
    /** Longest line logged or kept, in characters after escaping, not counting the note of what was cut. */
    static final int MAX_LINE_CHARS = 4096;
    /** Most lines of one worker logged in a second; the rest are counted and summarized. */
    static final int MAX_LINES_PER_SECOND = 500;
    /** Lines kept for diagnosis ({@link WorkerProcess#recentStderr}). */
    static final int TAIL_LINES = 40;
    /** Distinct Python logger names given their own SLF4J logger per JVM (loggers are never freed); the rest share the parent. */
    static final int MAX_PYTHON_LOGGERS = 1000;
    /** Longest Python logger name kept in an SLF4J logger name. */
    static final int MAX_LOGGER_NAME_CHARS = 200;

    /** This supervisor's own notes about a worker's output (suppressed lines, a failed read). */
    static final String WORKER_LOGGER = "io.snakebridge.worker";
    static final String OUTPUT_LOGGER = WORKER_LOGGER + ".stderr";
    static final String PYTHON_LOGGER = WORKER_LOGGER + ".python";
    /** The environment variable that gives the worker its nonce; the worker removes it from its environment. */
    static final String NONCE_VARIABLE = "SNAKEBRIDGE_LOG_NONCE";
    static final String RECORD_MARKER = "snakebridge-log";

    private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** One for the JVM, as SLF4J's loggers are. */
    private static final LoggerNames LOGGER_NAMES = new LoggerNames(MAX_PYTHON_LOGGERS);

    /** Where log lines go: SLF4J, or a test's recorder. */
    interface LogSink {
        LogSink SLF4J = (logger, level, message) -> LoggerFactory.getLogger(logger).atLevel(level).log("{}", message);

        void log(String logger, Level level, String message);
    }

    private final InputStream stderr;
    private final CappedLineReader reader;
    private final String recordPrefix;
    private final String workerTag;
    private final LogSink sink;
    private final ArrayDeque<String> tail = new ArrayDeque<>();
    private long windowStart = System.nanoTime();
    private int loggedInWindow;
    private long suppressed;

    StderrPump(InputStream stderr, long pid, String nonce, LogSink sink) {
        this.stderr = stderr;
        this.reader = new CappedLineReader(new InputStreamReader(stderr, StandardCharsets.UTF_8), MAX_LINE_CHARS);
        this.recordPrefix = RECORD_MARKER + " " + nonce + " ";
        this.workerTag = "[worker " + pid + "] ";
        this.sink = sink;
    }

    /** 128 random bits, hex: a worker's output cannot guess it. */
    static String newNonce() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** Reads to the end of the stream, then closes it: a closed worker holds no descriptor. */
    @Override
    public void run() {
        try (InputStream closedAtTheEnd = stderr) {
            String line;
            while ((line = reader.readLine()) != null) {
                take(line);
            }
        } catch (IOException e) {
            sink.log(WORKER_LOGGER, Level.DEBUG, workerTag + "stderr closed: " + e);
        } finally {
            reportSuppressed();
        }
    }

    /** The last lines, oldest first. */
    List<String> tail() {
        synchronized (tail) {
            return new ArrayList<>(tail);
        }
    }

    private void take(String line) {
        Entry entry = recordIn(line);
        if (entry == null) {
            entry = new Entry(OUTPUT_LOGGER, Level.INFO, line, line);
        }
        remember(entry.remembered());
        if (admit()) {
            sink.log(entry.logger(), entry.level(), workerTag + entry.message());
        }
    }

    /** What to log and what to keep in the tail for one line. */
    private record Entry(String logger, Level level, String message, String remembered) {
    }

    /** The Python record a line carries, or null when it is plain output: no marker with this process's nonce, or a malformed one. */
    private Entry recordIn(String line) {
        if (!line.startsWith(recordPrefix)) {
            return null;
        }
        int levelEnd = line.indexOf(' ', recordPrefix.length());
        int nameEnd = levelEnd < 0 ? -1 : line.indexOf(' ', levelEnd + 1);
        Integer pythonLevel = nameEnd < 0 ? null : parseLevel(line.substring(recordPrefix.length(), levelEnd));
        if (pythonLevel == null) {
            return null;
        }
        String pythonName = line.substring(levelEnd + 1, nameEnd);
        Level level = levelOf(pythonLevel);
        String message = line.substring(nameEnd + 1);
        String logger = LOGGER_NAMES.loggerFor(pythonName);
        String named = pythonName + ": " + message;
        // Under the shared parent logger the name is not in the logger's: keep it in the line.
        return new Entry(logger, level, logger.equals(PYTHON_LOGGER) ? named : message, level + " " + named);
    }

    private void remember(String line) {
        synchronized (tail) {
            if (tail.size() == TAIL_LINES) {
                tail.removeFirst();
            }
            tail.addLast(line);
        }
    }

    /** Whether this line fits this second's allowance; a new second first reports what the last one suppressed. */
    private boolean admit() {
        long now = System.nanoTime();
        if (now - windowStart >= SECOND_NANOS) {
            reportSuppressed();
            windowStart = now;
            loggedInWindow = 0;
        }
        if (loggedInWindow < MAX_LINES_PER_SECOND) {
            loggedInWindow++;
            return true;
        }
        suppressed++;
        return false;
    }

    private void reportSuppressed() {
        if (suppressed > 0) {
            sink.log(WORKER_LOGGER, Level.WARN, workerTag + "suppressed " + suppressed
                    + " lines of output (more than " + MAX_LINES_PER_SECOND + " lines a second)");
            suppressed = 0;
        }
    }

    /** A Python level number (DEBUG 10 ... CRITICAL 50), or null if the text is not one. */
    private static Integer parseLevel(String text) {
        if (text.isEmpty() || text.length() > 9 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        return Integer.valueOf(text);
    }

    /** Python's levels: ERROR and CRITICAL are errors, WARNING a warning; custom levels fall to the one below them. */
    static Level levelOf(int pythonLevel) {
        if (pythonLevel >= 40) {
            return Level.ERROR;
        } else if (pythonLevel >= 30) {
            return Level.WARN;
        } else if (pythonLevel >= 20) {
            return Level.INFO;
        } else if (pythonLevel >= 10) {
            return Level.DEBUG;
        }
        return Level.TRACE;
    }

    /**
     * Python logger names as SLF4J logger names, {@code io.snakebridge.worker.python.<name>} with the
     * name kept to letters, digits and {@code . _ - $}. SLF4J keeps every logger for the JVM's life, so
     * a worker inventing names must not create them without end: past {@code capacity} distinct names
     * the rest map to the parent, {@code io.snakebridge.worker.python}.
     */
    static final class LoggerNames {
        private final Set<String> named = ConcurrentHashMap.newKeySet();
        private final int capacity;

        LoggerNames(int capacity) {
            this.capacity = capacity;
        }

        String loggerFor(String pythonName) {
            if (pythonName.isEmpty()) {
                return PYTHON_LOGGER;
            }
            StringBuilder name = new StringBuilder(PYTHON_LOGGER).append('.');
            for (int i = 0; i < Math.min(pythonName.length(), MAX_LOGGER_NAME_CHARS); i++) {
                char c = pythonName.charAt(i);
                name.append(Character.isLetterOrDigit(c) || c == '.' || c == '_' || c == '-' || c == '$' ? c : '_');
            }
            String logger = name.toString();
            if (named.contains(logger) || (named.size() < capacity && named.add(logger))) {
                return logger;
            }
            return PYTHON_LOGGER;
        }
    }
}
