package io.snakebridge.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.BridgeException;
import io.snakebridge.PythonException;
import io.snakebridge.PyValue;
import io.snakebridge.SnakeBridge;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code snakebridge call math.factorial 30}: one call, arguments and result as JSON. */
@Command(name = "call", mixinStandardHelpOptions = true, description = "Call a Python callable by dotted name and print the result as JSON.")
final class CallCommand implements Callable<Integer> {
    static final int PYTHON_ERROR = 1;
    static final int BRIDGE_ERROR = 2;
    static final int USAGE_ERROR = 64;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DOTTED.NAME", description = "e.g. math.factorial, os.path.join")
    String name;

    @Parameters(index = "1..*", paramLabel = "ARG", description = "Each argument as one JSON value, e.g. 30, '\"text\"', '[1, 2]'")
    List<String> args = new ArrayList<>();

    @Option(names = "--python", description = "Interpreter to run the worker with (default: ${DEFAULT-VALUE})")
    String python = BridgeConfig.defaults().python();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Object> values = new ArrayList<>();
        for (String arg : args) {
            try {
                values.add(JSON.readValue(arg, Object.class));
            } catch (JsonProcessingException e) {
                err.println("argument is not a JSON value: " + arg + " (" + e.getOriginalMessage() + ")");
                return USAGE_ERROR;
            }
        }
        try (BridgeConnection py = SnakeBridge.connect(BridgeConfig.builder().python(python).build());
                PyValue result = py.call(name, values.toArray())) {
            out.println(JsonResult.render(result.raw()));
            return 0;
        } catch (PythonException e) {
            err.println(e.formattedTraceback());
            return PYTHON_ERROR;
        } catch (BridgeException e) {
            err.println("snakebridge: " + e.getMessage());
            return BRIDGE_ERROR;
        }
    }
}
