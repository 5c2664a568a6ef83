package io.snakebridge.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.snakebridge.PyAtom;
import io.snakebridge.PyComplex;
import io.snakebridge.PyStopIteration;
import io.snakebridge.RefHandle;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Renders a decoded Python value as JSON for the terminal: tuples and sets as arrays, refs as a short description. */
final class JsonResult {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonResult() {
    }

    static String render(Object value) {
        try {
            return JSON.writeValueAsString(plain(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object plain(Object v) {
        if (v instanceof Collection) {
            List<Object> out = new ArrayList<>();
            for (Object item : (Collection<?>) v) {
                out.add(plain(item));
            }
            return out;
        }
        if (v instanceof Map) {
            Map<String, Object> out = new LinkedHashMap<>();
            ((Map<?, ?>) v).forEach((k, val) -> out.put(k instanceof String ? (String) k : render(k), plain(val)));
            return out;
        }
        if (v instanceof Double && !Double.isFinite((Double) v)) {
            return v.toString(); // JSON has no NaN or Infinity
        }
        if (v instanceof byte[]) {
            return "base64:" + Base64.getEncoder().encodeToString((byte[]) v);
        }
        if (v instanceof PyComplex) {
            return Map.of("real", ((PyComplex) v).real(), "imag", ((PyComplex) v).imag());
        }
        if (v instanceof TemporalAccessor || v instanceof PyAtom || v instanceof RefHandle || v == PyStopIteration.INSTANCE) {
            return v instanceof PyAtom ? ((PyAtom) v).value() : v.toString();
        }
        return v;
    }
}
