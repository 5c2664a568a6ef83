package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ModulePolicyTest {

    private static void assertRefused(Runnable use, String module) {
        assertThatThrownBy(use::run).isInstanceOfSatisfying(ModuleNotAllowedException.class, e -> {
            assertThat(e.sqlState()).isEqualTo("42501");
            assertThat(e.module()).isEqualTo(module);
        });
    }

    @Test
    void allowedModulesWorkAndOthersAreRefused() {
        try (WorkerConnection py = Workers.connect(Workers.config().allowModules("math", "json"))) {
            assertThat(py.call("math.sqrt", 9.0).asDouble()).isEqualTo(3.0);
            assertThat(py.call("json.dumps", List.of(1)).asString()).isEqualTo("[1]");
            assertRefused(() -> py.call("tabnanny.check", "x"), "tabnanny");
            assertRefused(() -> py.call("len", "x"), "builtins");
        } // that the refusal comes before any import is checked by the POL-1 conformance test, from a second session

    }

    @Test
    void thePolicyCannotBeBypassedThroughAnotherModuleOrDunderAttributes() {
        try (WorkerConnection py = Workers.connect(Workers.config().allowModules("json", "shutil"))) {
            assertRefused(() -> py.call("json.codecs.open", "/etc/hostname"), "codecs");  // a module reached as an attribute
            assertRefused(() -> py.call("shutil.os.getcwd"), "os");
            assertRefused(() -> py.getAttr("json.loads.__globals__"), null);              // dunder paths lead anywhere
            try (RefHandle decoder = py.callRef("json.JSONDecoder")) {
                assertRefused(() -> decoder.getAttr("__class__"), null);
            }
        }
    }

    /** The README's example policy, against each escape a security review reproduced through it. */
    private static BridgeConfig.Builder readmeExample(String... more) {
        List<String> allowed = new java.util.ArrayList<>(List.of("math", "statistics"));
        allowed.addAll(List.of(more));
        return Workers.config().allowModules(allowed.toArray(String[]::new));
    }

    @Test
    void reexportedNamesAreJudgedByTheModuleThatDefinesThem() {
        try (WorkerConnection py = Workers.connect(readmeExample())) {
            assertRefused(() -> py.call("statistics.reduce", List.of(1, 2)), "functools");
            assertRefused(() -> py.getAttr("statistics.mul"), "operator");
            assertRefused(() -> py.callRef("statistics.Counter"), "collections");
            assertRefused(() -> py.call("statistics._fail_neg", List.of(1)), null); // private names lead anywhere
            assertThat(py.call("statistics.sqrt", 16.0).asDouble()).isEqualTo(4.0);  // math.sqrt: allowed
            assertThat(py.call("statistics.median", List.of(3, 1, 2)).asLong()).isEqualTo(2);
        }
    }

    @Test
    void aGeneratorCannotBeWalkedToItsFrameAndTheBuiltins() {
        try (WorkerConnection py = Workers.connect(readmeExample("ast"));
             RefHandle tree = py.callRef("ast.parse", "1");
             RefHandle walk = py.callRef("ast.walk", tree)) {
            assertRefused(() -> walk.getAttr("gi_frame"), null);
            assertRefused(() -> walk.getAttr("gi_frame.f_builtins"), null);
            assertRefused(() -> walk.callRef("gi_frame.f_builtins.get", "eval"), null);
        }
    }

    @Test
    void modulesAndClassesCannotBeChangedSoNoCodeIsPlantedBehindAnAllowedName() {
        try (WorkerConnection py = Workers.connect(readmeExample());
             RefHandle statistics = py.getAttr("statistics").asRef();
             RefHandle normalDist = py.getAttr("statistics.NormalDist").asRef()) {
            assertRefused(() -> statistics.setAttr("median", 0), "statistics");
            assertRefused(() -> normalDist.setAttr("cdf", 0), "statistics");
            assertThat(py.call("statistics.median", List.of(1, 2, 3)).asLong()).isEqualTo(2);
        }
    }

    @Test
    void theSameEscapesInsideOneBatchAreRefused() {
        try (WorkerConnection py = Workers.connect(readmeExample("ast"))) {
            Batch batch = py.batch();
            Promise tree = batch.callRef("ast.parse", "1");
            Promise walk = batch.callRef("ast.walk", tree);
            Promise frame = batch.getAttr(walk, "gi_frame");
            Promise reduce = batch.call("statistics.reduce", List.of(1, 2));
            Promise median = batch.call("statistics.median", List.of(5, 1, 3));
            batch.execute();
            assertRefused(frame::get, null);
            assertRefused(reduce::get, "functools");
            assertThat(median.get().asLong()).isEqualTo(3);
        }
    }

    @Test
    void aResultIteratesUnderAPolicyThatDoesNotAllowBuiltins() {
        try (WorkerConnection py = Workers.connect(readmeExample());
             RefHandle cuts = py.callRef("statistics.quantiles", List.of(1, 2, 3, 4, 5));
             PyCursor rows = cuts.iterate(2)) {
            List<Double> seen = new java.util.ArrayList<>();
            while (rows.hasNext()) {
                seen.add(((Number) rows.next()).doubleValue());
            }
            assertThat(seen).containsExactly(1.5, 3.0, 4.5);
        }
    }

    @Test
    void moduleStateReachedByAnAttributeStepCannotBeChanged() {
        try (WorkerConnection py = Workers.connect(Workers.config().allowModules("decimal"));
             RefHandle defaults = py.getAttr("decimal.DefaultContext").asRef()) { // every new context copies it
            assertRefused(() -> defaults.setAttr("prec", 3), "decimal");
            assertThat(defaults.getAttr("prec").asLong()).isEqualTo(28);
            try (RefHandle made = py.callRef("decimal.Context")) {
                made.setAttr("prec", 3); // an object a call made is the session's own
                assertThat(made.getAttr("prec").asLong()).isEqualTo(3);
            }
        }
    }

    @Test
    void aDenyListCoversCTwinsAndWhatTheBuiltinsHandOut() {
        try (WorkerConnection py = Workers.connect(Workers.config().denyModules("os", "subprocess", "builtins"))) {
            assertRefused(() -> py.call("posix.getcwd"), "posix");
            assertRefused(() -> py.call("shutil.os.getcwd"), "os");
            assertRefused(() -> py.callRef("io.open", "/dev/null"), "builtins");
            assertRefused(() -> py.getAttr("asyncio.create_subprocess_shell"), "subprocess");
            assertRefused(() -> py.getAttr("_posixsubprocess.fork_exec"), null);
            assertThat(py.call("math.floor", 2.5).asLong()).isEqualTo(2);
        }
    }

    @Test
    void denyWinsOverAllowAndCoversSubmodules() {
        try (WorkerConnection py = Workers.connect(Workers.config().allowModules("xml", "math").denyModules("xml.dom"))) {
            assertThat(py.callRef("xml.etree.ElementTree.fromstring", "<a/>").typeName()).isEqualTo("Element");
            assertRefused(() -> py.call("xml.dom.minidom.parseString", "<a/>"), "xml.dom");
        }
    }

    @Test
    void thePolicySurvivesASessionReset() {
        try (WorkerConnection py = Workers.connect(Workers.config().denyModules("os"))) {
            py.resetSession();
            assertRefused(() -> py.call("os.getcwd"), "os");
            assertThat(py.call("math.floor", 2.5).asLong()).isEqualTo(2);
        }
    }

    @Test
    void moduleNamesAreValidatedWhenConfigured() {
        assertThatThrownBy(() -> BridgeConfig.builder().allowModules("os; rm -rf")).isInstanceOf(IllegalArgumentException.class);
        assertThat(BridgeSetting.configFrom(java.util.Map.of("allowModules", "math, json")).allowModules()).containsExactly("math", "json");
    }
}
