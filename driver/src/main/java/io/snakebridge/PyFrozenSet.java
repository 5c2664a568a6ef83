package io.snakebridge;

import java.util.AbstractSet;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Set;

/** A Python frozenset: an immutable set, so that it travels back as a frozenset (a plain {@link Set} is a set). */
public final class PyFrozenSet extends AbstractSet<Object> {
    private final Set<Object> elements;

    private PyFrozenSet(Set<Object> elements) {
        this.elements = Collections.unmodifiableSet(elements);
    }

    /**
     * A frozenset of the elements given; duplicates count once, the first one's position is kept.
     *
     * @param elements the elements
     * @return the frozenset
     */
    public static PyFrozenSet of(Object... elements) {
        return copyOf(java.util.Arrays.asList(elements));
    }

    /**
     * A frozenset of a collection's elements, in its iteration order; duplicates count once.
     *
     * @param elements the elements (copied)
     * @return the frozenset
     */
    public static PyFrozenSet copyOf(Collection<?> elements) {
        return new PyFrozenSet(new LinkedHashSet<>(elements));
    }

    @Override
    public Iterator<Object> iterator() {
        return elements.iterator();
    }

    @Override
    public int size() {
        return elements.size();
    }
}
