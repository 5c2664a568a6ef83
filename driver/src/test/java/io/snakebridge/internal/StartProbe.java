package io.snakebridge.internal;

import io.snakebridge.BridgeConnection;
import io.snakebridge.BridgeSetting;
import io.snakebridge.SnakeBridge;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Run in a child JVM by {@link ChildJvm}: prints {@code ready}, waits for a line on stdin (so that
 * many children can be released at once), starts {@code starts} workers one after another, each
 * answering a call, and prints {@code => value} for each Python expression the last one evaluates.
 * Arguments: python, starts, settings as a JDBC URL query (may be empty), expressions.
 */
public final class StartProbe {
    public static void main(String[] args) throws Exception {
        Map<String, String> settings = new LinkedHashMap<>();
        for (String pair : args[2].split("&")) {
            if (!pair.isEmpty()) {
                settings.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
            }
        }
        settings.put("python", args[0]);
        var config = BridgeSetting.configFrom(settings);
        System.out.println("ready");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        int starts = Integer.parseInt(args[1]);
        for (int i = 1; i <= starts; i++) {
            try (BridgeConnection py = SnakeBridge.connect(config)) {
                if (py.call("len", "abc").asLong() != 3) {
                    throw new AssertionError("wrong answer");
                }
                if (i == starts) {
                    for (String expression : Arrays.copyOfRange(args, 3, args.length)) {
                        System.out.println("=> " + py.call("eval", expression).raw());
                    }
                }
            }
        }
    }
}
