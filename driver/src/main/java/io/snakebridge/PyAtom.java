package io.snakebridge;

/**
 * A symbolic constant (the wire's {@code atom} tag, an Elixir atom in the original SnakeBridge); Python sees a str subclass.
 *
 * @param value the atom's name
 */
public record PyAtom(String value) {
}
