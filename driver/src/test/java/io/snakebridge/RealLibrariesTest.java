package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * What a new user does with real libraries: sympy, networkx and scipy where the worker's Python has
 * them (each test is skipped, with the reason, where its library is not importable), and the standard
 * library's value types. Every handle the README says to close is closed, and the session ends
 * holding no refs (each scenario asserts it; refs of one would fail the next).
 */
class RealLibrariesTest extends SharedWorkerTest {

    private static void requireLibrary(String module) {
        boolean importable;
        try (PyValue spec = py.call("importlib.util.find_spec", module)) { // a ModuleSpec: a ref, closed here
            importable = !spec.isNone();
        }
        assumeTrue(importable, () -> module + " is not importable by the worker's Python: this scenario is skipped");
    }

    @Test
    void aSympySessionDifferentiatesAndSolvesAndLeavesNoRefsBehind() {
        requireLibrary("sympy");
        try (RefHandle x = py.callRef("sympy.Symbol", "x");
                RefHandle expr = py.callRef("sympy.sympify", "x**2 - 5*x + 6");
                RefHandle derivative = py.callRef("sympy.diff", expr, x);
                PyValue roots = py.call("sympy.solve", expr, x)) {
            assertThat(derivative.str()).isEqualTo("2*x - 5");
            List<Long> values = new ArrayList<>();
            for (Object root : roots.asList()) { // sympy Integers stay in Python: refs, closed with `roots`
                values.add(py.call("int", root).asLong());
            }
            assertThat(values).containsExactly(2L, 3L);
            try (PyValue simplified = py.call("sympy.simplify", derivative)) {
                assertThat(simplified.asRef().str()).isEqualTo("2*x - 5");
            }
            assertThat(py.liveRefs()).as("x, the expression, its derivative and the two roots").isEqualTo(5);
        }
        assertThat(py.liveRefs()).isZero();
    }

    @Test
    void networkxTakesKeywordArgumentsAndItsIntKeyedResultsAreReachableFromJava() {
        requireLibrary("networkx");
        try (RefHandle graph = py.callRef("networkx.path_graph", 4)) {
            graph.call("add_edge", List.of(3, 0), Map.of("weight", 2.5));
            try (RefHandle edges = graph.callRef("edges", List.of(), Map.of("data", true))) {
                List<Object> withData = py.call("list", edges).asList();
                assertThat(withData).hasSize(4).allSatisfy(edge -> assertThat(edge).isInstanceOf(PyTuple.class));
                assertThat(withData).contains(PyTuple.of(0L, 3L, Map.of("weight", 2.5)));
            }
            assertThat(py.call("networkx.shortest_path", List.of(graph, 0, 2), Map.of()).asList(Integer.class))
                    .hasSize(3).startsWith(0).endsWith(2);
            Map<Integer, Double> rank = py.call("networkx.pagerank", graph).asMap(Integer.class, Double.class);
            assertThat(rank.keySet()).containsExactlyInAnyOrder(0, 1, 2, 3);
            assertThat(rank.get(0) + rank.get(1) + rank.get(2) + rank.get(3)).isCloseTo(1.0, within(1e-9));
        }
        assertThat(py.liveRefs()).isZero();
    }

    @Test
    void scipyMinimisesAJavaObjectiveAndItsResultIsADict() {
        requireLibrary("scipy");
        Function<Double, Double> objective = x -> (x - 2) * (x - 2) + 1;
        Map<Object, Object> result = py.call("scipy.optimize.minimize_scalar", objective).asMap();
        assertThat((Double) result.get("x")).isCloseTo(2.0, within(1e-6));
        assertThat((Double) result.get("fun")).isCloseTo(1.0, within(1e-9));
        assertThat(result.get("success")).isEqualTo(true);
        try (PyValue solution = py.call("numpy.linalg.solve", List.of(List.of(2.0, 0.0), List.of(0.0, 4.0)), List.of(2.0, 8.0))) {
            assertThat(solution.as(double[].class)).containsExactly(1.0, 2.0); // a numpy array is a ref: closed with `solution`
        }
        assertThat(py.liveRefs()).isZero();
    }

    @Test
    void standardLibraryContainerSubclassesTravelAsTheirContainers() {
        assertThat(py.call("collections.Counter", "abca").asMap(String.class, Integer.class))
                .isEqualTo(Map.of("a", 2, "b", 1, "c", 1));
        assertThat(py.call("collections.OrderedDict", List.of(List.of("z", 1), List.of("a", 2))).asMap().keySet())
                .containsExactly("z", "a");
        assertThat(py.call("time.gmtime", 0).raw()).isInstanceOf(PyTuple.class);
        assertThat(py.call("http.HTTPStatus", 404).raw()).isEqualTo(404L);
        try (RefHandle counter = py.callRef("collections.Counter", "abca")) {
            assertThat(counter.call("most_common", 1).asList()).containsExactly(PyTuple.of("a", 2L));
        }
        assertThat(py.liveRefs()).isZero();
    }
}
