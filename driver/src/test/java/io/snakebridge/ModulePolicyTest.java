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
