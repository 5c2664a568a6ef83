package io.snakebridge.internal;

import io.snakebridge.PyCallback;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/** Calls a Java function that Python called, with the arguments Python passed. */
final class Callbacks {
    private Callbacks() {
    }

    @SuppressWarnings("unchecked")
    static Object invoke(Object function, List<Object> args, Map<String, Object> kwargs) throws Exception {
        if (function instanceof PyCallback) {
            return ((PyCallback) function).call(args, kwargs);
        }
        if (!kwargs.isEmpty()) {
            throw new IllegalArgumentException("a " + function.getClass().getName() + " takes no keyword arguments; use PyCallback");
        }
        if (function instanceof BiFunction) {
            return ((BiFunction<Object, Object, Object>) function).apply(args.get(0), args.get(1));
        }
        if (function instanceof Function) {
            return ((Function<Object, Object>) function).apply(args.get(0));
        }
        if (function instanceof Consumer) {
            ((Consumer<Object>) function).accept(args.get(0));
            return null;
        }
        if (function instanceof Supplier) {
            return ((Supplier<Object>) function).get();
        }
        ((Runnable) function).run();
        return null;
    }
}
