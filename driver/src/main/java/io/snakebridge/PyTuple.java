package io.snakebridge;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.RandomAccess;

/** A Python tuple: an immutable list. {@code PyTuple.of(1, "a")} reaches Python as {@code (1, 'a')}. */
public final class PyTuple extends AbstractList<Object> implements RandomAccess {
    private final Object[] elements;

    private PyTuple(Object[] elements) {
        this.elements = elements;
    }

    /**
     * A tuple of the elements given.
     *
     * @param elements the elements (the array is copied)
     * @return the tuple
     */
    public static PyTuple of(Object... elements) {
        return new PyTuple(elements.clone());
    }

    /**
     * A tuple of a list's elements.
     *
     * @param elements the elements, in order (copied)
     * @return the tuple
     */
    public static PyTuple copyOf(List<?> elements) {
        return new PyTuple(elements.toArray());
    }

    @Override
    public Object get(int index) {
        return elements[index];
    }

    @Override
    public int size() {
        return elements.length;
    }

    @Override
    public String toString() {
        String inner = Arrays.toString(elements);
        return "(" + inner.substring(1, inner.length() - 1) + (elements.length == 1 ? ",)" : ")");
    }
}
