package io.snakebridge;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** The one table from the protocol's error codes (PROTOCOL.md ERR-*) to exceptions. Classification is by code, never by message. */
final class Errors {
    private static final int MAX_CAUSE_DEPTH = 16;

    private Errors() {
    }

    /** {@code callbackErrors} finds the Java exception a callback threw, by the id Python was told (CB-3). */
    static BridgeException fromWire(JsonNode error, java.util.function.LongFunction<Throwable> callbackErrors) {
        String code = error.path("code").asText("");
        String message = error.path("message").asText("");
        JsonNode details = error.path("details");
        switch (code) {
            case "python_exception":
                return python(error, 0, callbackErrors);
            case "ref_not_found":
                return new RefNotFoundException(details.path("ref_id").asText(null), details.path("session_id").asText(null),
                        RefNotFoundException.Reason.fromWire(details.path("reason").asText(null)), message);
            case "session_mismatch":
                return new SessionMismatchException(details.path("expected_session_id").asText(null),
                        details.path("actual_session_id").asText(null), details.path("ref_id").asText(null), message);
            case "invalid_ref":
                return new InvalidRefException("missing_id".equals(details.path("reason").asText())
                        ? InvalidRefException.Reason.MISSING_ID : InvalidRefException.Reason.MALFORMED, message);
            case "ref_limit":
                return new RefLimitExceededException(details.path("limit").asInt(),
                        message.replace("max_refs", "maxRefs (BridgeConfig)"));
            case "invalid_value":
            case "invalid_argument":
                return new InvalidValueException(message + settingThatRaises(details));
            case "policy_denied":
                return new ModuleNotAllowedException(details.path("module").asText(null), message);
            case "dependency_failed":
                return new DependencyFailedException(details.path("index").asInt(-1), message, null);
            case "cancelled":
                return new CallCancelledException("the call was interrupted: " + message, false, null);
            case "protocol":
            case "frame_too_large":
            case "unsupported_version":
                return new ProtocolException("worker reports a protocol error (" + code + "): " + message);
            default:
                return new BridgeException(code.isEmpty() ? "unknown" : code, "HY000", "worker error " + code + ": " + message, null);
        }
    }

    /**
     * For a cap the worker enforced, named by its wire name in {@code details.setting} (RESP-3), the
     * sentence naming the {@link BridgeSetting} that raises it: the worker knows only wire names.
     */
    private static String settingThatRaises(JsonNode details) {
        StringBuilder key = new StringBuilder();
        for (String word : details.path("setting").asText("").split("_")) { // max_response_bytes -> maxResponseBytes
            key.append(key.length() == 0 || word.isEmpty() ? word : Character.toUpperCase(word.charAt(0)) + word.substring(1));
        }
        return BridgeSetting.byKey(key.toString()).map(s -> " (the BridgeConfig setting is " + s.key() + ")").orElse("");
    }

    private static PythonException python(JsonNode error, int depth, java.util.function.LongFunction<Throwable> callbackErrors) {
        List<PythonException.Frame> frames = new ArrayList<>();
        for (JsonNode f : error.path("traceback")) {
            frames.add(new PythonException.Frame(f.path("file").asText(""), f.path("line").asInt(), f.path("function").asText(""),
                    f.path("text").asText("")));
        }
        JsonNode cause = error.get("cause");
        Throwable javaCause = error.has("java_error_id") ? callbackErrors.apply(error.get("java_error_id").asLong()) : null;
        if (javaCause == null && cause != null && cause.isObject() && depth < MAX_CAUSE_DEPTH) {
            javaCause = python(cause, depth + 1, callbackErrors);
        }
        java.util.Map<String, Object> attributes = new java.util.LinkedHashMap<>();
        for (java.util.Iterator<java.util.Map.Entry<String, JsonNode>> it = error.path("attributes").fields(); it.hasNext(); ) {
            java.util.Map.Entry<String, JsonNode> attribute = it.next();
            attributes.put(attribute.getKey(), ValueDecoder.decode(attribute.getValue(), ValueDecoder.PLAIN));
        }
        List<PythonException> members = new ArrayList<>();
        if (depth < MAX_CAUSE_DEPTH) {
            for (JsonNode member : error.path("exceptions")) {
                members.add(python(member, depth + 1, callbackErrors));
            }
        }
        return new PythonException(error.path("type").asText("Exception"), error.path("message").asText(""), frames, javaCause,
                attributes, members);
    }
}
