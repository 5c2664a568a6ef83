package io.snakebridge;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * Python raised. Carries the Python type, message and traceback; the Python cause chain
 * ({@code raise ... from ...} or an exception during handling) is the Java cause chain (SQLState 38000).
 */
public class PythonException extends BridgeException {
    private static final long serialVersionUID = 1L;

    /**
     * One frame of a Python traceback, innermost last.
     *
     * @param file the source file's path
     * @param line the line number in that file
     * @param function the function's name, {@code <module>} at module level
     * @param text the source line, stripped, or empty when Python could not read it
     * @serial exclude its serialized form is its components
     */
    public record Frame(String file, int line, String function, String text) implements Serializable {
    }

    /** The Python exception's type. */
    private final String pythonType;
    /** The Python exception's message. */
    private final String pythonMessage;
    /** The traceback, innermost last. */
    private final List<Frame> traceback;
    /** Plain data attributes: by value, not kept by serialization (a value may not be serializable). */
    private final transient Map<String, Object> attributes;
    /** An {@code ExceptionGroup}'s members; empty for any other exception. */
    private final List<PythonException> exceptions;

    /**
     * Creates the exception.
     *
     * @param pythonType the exception's type, module-qualified unless builtin
     * @param pythonMessage {@code str(exception)}
     * @param traceback the traceback's frames, innermost last (copied)
     * @param cause the Python cause as a PythonException, or the Java exception a callback threw, or null
     */
    public PythonException(String pythonType, String pythonMessage, List<Frame> traceback, Throwable cause) {
        this(pythonType, pythonMessage, traceback, cause, Map.of(), List.of());
    }

    /**
     * A Python exception with its data attributes and, for an exception group, its members.
     *
     * @param pythonType the exception's type, module-qualified unless builtin
     * @param pythonMessage {@code str(exception)}
     * @param traceback its frames, innermost last
     * @param cause the Python cause as a PythonException, or the Java exception a callback threw
     * @param attributes the exception's plain data attributes, by name (see {@link #attributes()})
     * @param exceptions an exception group's members, in order; empty for any other exception
     */
    public PythonException(String pythonType, String pythonMessage, List<Frame> traceback, Throwable cause,
            Map<String, Object> attributes, List<PythonException> exceptions) {
        super("python_exception", "38000", pythonType + ": " + pythonMessage, cause);
        this.pythonType = pythonType;
        this.pythonMessage = pythonMessage;
        this.traceback = List.copyOf(traceback);
        this.attributes = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(attributes));
        this.exceptions = List.copyOf(exceptions);
    }

    /**
     * The exception's public data attributes whose values are plain (None, bool, int, float, str, and
     * lists of these; a tuple is a List), decoded as results are: {@code args}, an {@code OSError}'s
     * {@code errno} and {@code filename}, a {@code SyntaxError}'s {@code lineno} and {@code text}, a
     * user exception's own fields. Other attributes are not carried (PROTOCOL.md ERR-3).
     *
     * @return the attributes by name, unmodifiable
     */
    public Map<String, Object> attributes() {
        return attributes == null ? Map.of() : attributes;
    }

    /**
     * The members of an {@code ExceptionGroup} (or {@code BaseExceptionGroup}), each with its own
     * type, traceback and attributes (PROTOCOL.md ERR-3).
     *
     * @return the members in order; empty for any other exception
     */
    public List<PythonException> exceptions() {
        return exceptions;
    }

    /**
     * The exception's type, module-qualified unless builtin.
     *
     * @return e.g. {@code ZeroDivisionError}, {@code json.decoder.JSONDecodeError}
     */
    public String pythonType() {
        return pythonType;
    }

    /**
     * The exception's message.
     *
     * @return {@code str(exception)}
     */
    public String pythonMessage() {
        return pythonMessage;
    }

    /**
     * The traceback's frames.
     *
     * @return the frames, innermost last; unmodifiable
     */
    public List<Frame> traceback() {
        return traceback;
    }

    /**
     * The traceback as Python prints it.
     *
     * @return {@code Traceback (most recent call last):}, the frames, then {@code type: message}
     */
    public String formattedTraceback() {
        StringBuilder out = new StringBuilder("Traceback (most recent call last):\n");
        for (Frame f : traceback) {
            out.append("  File \"").append(f.file()).append("\", line ").append(f.line())
                    .append(", in ").append(f.function()).append('\n');
            if (!f.text().isEmpty()) {
                out.append("    ").append(f.text()).append('\n');
            }
        }
        return out.append(getMessage()).toString();
    }
}
