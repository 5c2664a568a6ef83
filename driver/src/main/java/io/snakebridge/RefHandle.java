package io.snakebridge;

import java.util.List;
import java.util.Map;

/**
 * A Python object that stays in the worker: cursor-like and {@link AutoCloseable}. Pass it as an
 * argument and Python receives the original object. {@link #close()} releases it (idempotent);
 * a closed handle, or one whose connection is closed, fails fast without a round trip. A handle that
 * becomes unreachable without {@code close()} is released with the connection's next request.
 *
 * <p>Every method that reaches the object fails with {@link InvalidRefException} (SQLState 24000)
 * once the handle or its connection is closed, and with {@link RefNotFoundException} (SQLState
 * 34000, its {@link RefNotFoundException#reason() reason} says why) once the object is gone: released,
 * expired, evicted, its session reset, or its worker dead. Under a module policy, what the policy
 * refuses (an object of a type outside it, a private attribute, a change to a module's state) fails
 * with {@link ModuleNotAllowedException} (SQLState 42501). Besides, each can fail as any request of
 * its {@link BridgeConnection} can. The protocol methods ({@link #len()} to {@link #withContext},
 * {@link #value()}, {@link #toArray()}) need the worker's {@code object_protocol} capability (the
 * reference worker has it); without it they fail without a round trip, code {@code unsupported},
 * SQLState 0A000.
 */
public interface RefHandle extends AutoCloseable {

    /**
     * The ref's id.
     *
     * @return 32 hex digits, unguessable, unique in its worker
     */
    String id();

    /**
     * The session the ref belongs to; it can be used only while its connection holds that session.
     *
     * @return the session's id
     */
    String sessionId();

    /**
     * The Python type's qualified name.
     *
     * @return e.g. {@code Pattern}
     */
    String typeName();

    /**
     * The module the type is defined in.
     *
     * @return e.g. {@code re}
     */
    String pythonModule();

    /**
     * Calls a method (or a dotted path of attributes ending in a callable); the result comes back by
     * value, as {@link BridgeConnection#call(String, Object...)}'s does.
     *
     * @param method the method's name or a dotted path
     * @param args the positional arguments
     * @return the result
     * @throws PythonException if Python raised (SQLState 38000)
     * @throws InvalidValueException if an argument or the result cannot cross the bridge (SQLState 22023)
     * @throws InvalidRefException if this handle or its connection is closed (SQLState 24000)
     * @throws RefNotFoundException if the object is gone (SQLState 34000)
     */
    PyValue call(String method, Object... args);

    /**
     * Calls a method with keyword arguments; otherwise as {@link #call(String, Object...)}.
     *
     * @param method the method's name or a dotted path
     * @param args the positional arguments
     * @param kwargs the keyword arguments by name
     * @return the result
     * @throws PythonException if Python raised (SQLState 38000)
     * @throws InvalidValueException if an argument or the result cannot cross the bridge (SQLState 22023)
     * @throws InvalidRefException if this handle or its connection is closed (SQLState 24000)
     * @throws RefNotFoundException if the object is gone (SQLState 34000)
     */
    PyValue call(String method, List<?> args, Map<String, ?> kwargs);

    /**
     * Prepares calls of a method (or a dotted path of attributes ending in a callable) of this
     * object, as {@link BridgeConnection#prepare} does for a global name; the prepared call stays
     * usable after this handle is closed (it holds the bound method).
     *
     * @param method the method's name, or a dotted path of attributes ending in a callable
     * @return the prepared call; close it (try-with-resources) to release it
     * @throws InvalidRefException (24000) if this handle is closed
     * @throws ModuleNotAllowedException (42501) if the method is outside the session's module policy
     * @throws PythonException (38000) if the method does not resolve
     */
    PreparedCall prepare(String method);

    /**
     * Calls a method and keeps its result in Python, whatever its type.
     *
     * @param method the method's name or a dotted path
     * @param args the positional arguments
     * @return the handle of the result; close it when done
     * @throws PythonException if Python raised (SQLState 38000)
     * @throws RefLimitExceededException if the session holds {@code maxRefs} refs under the
     *         {@code REJECT} policy (SQLState 54000)
     * @throws InvalidRefException if this handle or its connection is closed (SQLState 24000)
     * @throws RefNotFoundException if the object is gone (SQLState 34000)
     */
    RefHandle callRef(String method, Object... args);

    /**
     * Calls a method with keyword arguments and keeps its result in Python:
     * {@code graph.callRef("edges", List.of(), Map.of("data", true))}.
     *
     * @param method the method's name (or a dotted path of attributes ending in a callable)
     * @param args the positional arguments
     * @param kwargs the keyword arguments
     * @return a handle to the result; close it
     */
    RefHandle callRef(String method, List<?> args, Map<String, ?> kwargs);

    /**
     * Reads an attribute.
     *
     * @param name the attribute, or a dotted path of attributes
     * @return its value, as a call's result would be
     * @throws PythonException if Python raised, e.g. an {@code AttributeError} (SQLState 38000)
     * @throws ModuleNotAllowedException if the path is refused by the module policy, such as
     *         {@code __globals__} (SQLState 42501)
     * @throws InvalidRefException if this handle or its connection is closed (SQLState 24000)
     * @throws RefNotFoundException if the object is gone (SQLState 34000)
     */
    PyValue getAttr(String name);

    /**
     * Reads an attribute (a dotted path) of this object and keeps it in Python, whatever its type.
     *
     * @param name the attribute's name or dotted path
     * @return a handle to the attribute's value; close it
     */
    RefHandle getAttrRef(String name);

    /**
     * Calls this object, as Python's {@code obj(*args)} does: a function, a class or any callable
     * ({@code f.invoke(2.0)} rather than {@code f.call("__call__", 2.0)}).
     *
     * @param args the positional arguments
     * @return the result, by value
     */
    PyValue invoke(Object... args);

    /**
     * Calls this object with keyword arguments, as Python's {@code obj(*args, **kwargs)} does.
     *
     * @param args the positional arguments
     * @param kwargs the keyword arguments
     * @return the result, by value
     */
    PyValue invoke(List<?> args, Map<String, ?> kwargs);

    /**
     * Sets an attribute: Python's {@code obj.name = value}.
     *
     * @param name the attribute, or a dotted path whose last part is set
     * @param value the value, encoded as an argument would be
     * @throws PythonException if Python raised (SQLState 38000)
     * @throws ModuleNotAllowedException if the module policy refuses the change (SQLState 42501)
     * @throws InvalidValueException if the value cannot cross the bridge (SQLState 22023)
     * @throws InvalidRefException if this handle or its connection is closed (SQLState 24000)
     * @throws RefNotFoundException if the object is gone (SQLState 34000)
     */
    void setAttr(String name, Object value);

    /**
     * Reads this object's items in batches of {@code fetchSize} per round trip, as a JDBC cursor
     * would. A generator or iterator ref is read directly and the cursor takes it over (closing the
     * cursor releases it); any other iterable is read through a fresh {@code iter()} of it.
     *
     * @param fetchSize the items per round trip, at least 1
     * @return a cursor positioned before the first item; close it when done
     * @throws IllegalArgumentException if {@code fetchSize} is less than 1
     * @throws PythonException if the object is not iterable (SQLState 38000)
     * @throws InvalidRefException if this handle or its connection is closed (SQLState 24000)
     * @throws RefNotFoundException if the object is gone (SQLState 34000)
     */
    PyCursor iterate(int fetchSize);

    /**
     * This object's data as an array, with dtype and shape, in one round trip (see {@link BridgeConnection#callArray}).
     *
     * @return the data; the object stays in Python
     * @throws InvalidValueException if the object is not an array of a supported dtype (SQLState 22023)
     * @throws BridgeException code {@code unsupported} if the worker does not declare the {@code arrays}
     *         capability (SQLState 0A000)
     * @throws InvalidRefException if this handle or its connection is closed (SQLState 24000)
     * @throws RefNotFoundException if the object is gone (SQLState 34000)
     */
    NDArray toArray();

    /**
     * This object converted by value (as a result would be), in one round trip; it stays in Python too.
     *
     * @return the value; parts that cannot travel by value come back as new refs
     * @throws InvalidValueException if the value cannot cross the bridge (SQLState 22023)
     * @throws InvalidRefException if this handle or its connection is closed (SQLState 24000)
     * @throws RefNotFoundException if the object is gone (SQLState 34000)
     */
    PyValue value();

    /**
     * Python's {@code len(obj)}.
     *
     * @return the length
     * @throws PythonException if the object has no length, a {@code TypeError} (SQLState 38000)
     */
    long len();

    /**
     * Python's {@code item in obj}.
     *
     * @param item the item, encoded as an argument would be
     * @return whether the object contains it
     * @throws PythonException if Python raised (SQLState 38000)
     */
    boolean contains(Object item);

    /**
     * Python's {@code obj[key]}, for a key of any type (a PyTuple for a tuple key).
     *
     * @param key the key or index, encoded as an argument would be
     * @return the item, as a call's result would be
     * @throws PythonException if Python raised, e.g. a {@code KeyError} or {@code IndexError} (SQLState 38000)
     */
    PyValue getItem(Object key);

    /**
     * Python's {@code obj[key] = value}.
     *
     * @param key the key or index, encoded as an argument would be
     * @param value the value, encoded as an argument would be
     * @throws PythonException if Python raised (SQLState 38000)
     */
    void setItem(Object key, Object value);

    /**
     * Python's {@code del obj[key]}.
     *
     * @param key the key or index, encoded as an argument would be
     * @throws PythonException if Python raised, e.g. a {@code KeyError} (SQLState 38000)
     */
    void delItem(Object key);

    /**
     * Python's {@code repr(obj)}.
     *
     * @return the representation
     * @throws PythonException if {@code __repr__} raised (SQLState 38000)
     */
    String repr();

    /**
     * Python's {@code str(obj)}.
     *
     * @return the string
     * @throws PythonException if {@code __str__} raised (SQLState 38000)
     */
    String str();

    /**
     * Python's {@code with obj as value: body}: calls {@code __enter__}, runs {@code body} with what
     * it returned, then {@code __exit__}. If {@code body} throws, {@code __exit__} sees the exception
     * as a Python {@code CallbackError} naming its Java type; when {@code __exit__} returns true the
     * exception is suppressed and this returns null, as in Python. The value {@code __enter__}
     * returned is released when the block ends.
     *
     * @param <T> what {@code body} returns
     * @param body the block, given what {@code __enter__} returned
     * @return what {@code body} returned, or null if {@code __exit__} suppressed its exception
     * @throws PythonException if {@code __enter__} or {@code __exit__} raised (SQLState 38000); an
     *         exception of {@code body} is then attached as suppressed
     * @throws RuntimeException what {@code body} threw (an {@link Error} too), unless {@code __exit__} suppressed it
     */
    <T> T withContext(java.util.function.Function<? super PyValue, ? extends T> body);

    /**
     * Whether this handle can no longer be used: closed, or its connection closed, broken or reset. No round trip.
     *
     * @return true if the handle is closed or its session is gone
     */
    boolean isClosed();

    /**
     * Releases the object in the worker. Idempotent; does not throw when the connection is gone
     * (the object went with it).
     */
    @Override
    void close();
}
