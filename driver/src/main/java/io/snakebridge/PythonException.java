package io.snakebridge;

import java.util.List;

/**
 * Python raised. Carries the Python type, message and traceback; the Python cause chain
 * ({@code raise ... from ...} or an exception during handling) is the Java cause chain (SQLState 38000).
 */
public class PythonException extends BridgeException {
    private static final long serialVersionUID = 1L;

    /** One frame of a Python traceback, innermost last. */
    public record Frame(String file, int line, String function, String text) {
    }

    private final String pythonType;
    private final String pythonMessage;
    private final List<Frame> traceback;

    /** {@code cause}: the Python cause as a PythonException, or the Java exception a callback threw. */
    public PythonException(String pythonType, String pythonMessage, List<Frame> traceback, Throwable cause) {
        super("python_exception", "38000", pythonType + ": " + pythonMessage, cause);
        this.pythonType = pythonType;
        this.pythonMessage = pythonMessage;
        this.traceback = List.copyOf(traceback);
    }

    /** The exception's type, module-qualified unless builtin, e.g. {@code ZeroDivisionError}, {@code json.decoder.JSONDecodeError}. */
    public String pythonType() {
        return pythonType;
    }

    /** {@code str(exception)}. */
    public String pythonMessage() {
        return pythonMessage;
    }

    public List<Frame> traceback() {
        return traceback;
    }

    /** The traceback as Python prints it. */
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
