package io.snakebridge;

import java.io.Serializable;
import java.util.List;

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

    /**
     * @param pythonType the exception's type, module-qualified unless builtin
     * @param pythonMessage {@code str(exception)}
     * @param traceback the traceback's frames, innermost last (copied)
     * @param cause the Python cause as a PythonException, or the Java exception a callback threw, or null
     */
    public PythonException(String pythonType, String pythonMessage, List<Frame> traceback, Throwable cause) {
        super("python_exception", "38000", pythonType + ": " + pythonMessage, cause);
        this.pythonType = pythonType;
        this.pythonMessage = pythonMessage;
        this.traceback = List.copyOf(traceback);
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
