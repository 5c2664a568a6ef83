package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.Requirement;
import io.snakebridge.shim.Signal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class CallbackConformanceTest extends WorkerConformance {

    @BeforeEach
    void needsCallbacks() {
        assumeCapability("callbacks");
    }

    private static Map<String, Object> callback(String id, int arity) {
        return fields("__type__", "callback", "__schema__", 1, "ref_id", id, "arity", arity);
    }

    private JsonNode expectCallbackRequest(String callbackId) {
        JsonNode request = worker.readFrame();
        assertThat(request).isNotNull();
        assertThat(request.path("op").asText()).as("a callback request: %s", request).isEqualTo("callback");
        assertThat(request.path("callback_id").asText()).isEqualTo(callbackId);
        assertThat(request.path("session_id").asText()).isEqualTo(s1);
        assertThat(request.path("cid").canConvertToLong()).isTrue();
        return request;
    }

    private void reply(JsonNode request, Object result) {
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("cid", request.get("cid").asLong());
        reply.put("ok", true);
        reply.put("result", result);
        worker.sendMessage(reply);
    }

    /**
     * The response to request {@code id}. A callback request that comes first, from a worker that
     * should not have asked, is collected in {@code asked} and gets an error reply, as a client
     * answers a callback it does not hold (CB-4): the worker stays in step for the next test.
     */
    private JsonNode responseAnsweringStrayCallbacks(long id, List<JsonNode> asked) {
        for (int i = 0; i < 10; i++) {
            JsonNode frame = worker.readFrame();
            assertThat(frame).as("the worker closed its output instead of answering request %d", id).isNotNull();
            if (!"callback".equals(frame.path("op").asText())) {
                assertThat(frame.path("id").asLong(-1)).as("response %s answers request %d", frame, id).isEqualTo(id);
                return frame;
            }
            asked.add(frame);
            worker.sendMessage(fields("cid", frame.path("cid").asLong(), "ok", false, "error",
                    fields("code", "callback_error", "type", "java.lang.IllegalStateException", "message", "no such callback")));
        }
        throw new AssertionError("the worker sent 10 callback requests instead of answering request " + id);
    }

    private JsonNode callMethodOf(JsonNode object, List<?> args, List<JsonNode> asked) {
        long id = worker.send("call_method", fields("session_id", s1, "object", object, "method", "__call__", "args", args));
        return responseAnsweringStrayCallbacks(id, asked);
    }

    @Test
    @Tag("optional")
    @Requirement("CB-1")
    void aCallbackArrivesAsACallableThatChecksItsArity() {
        assertThat(ok(call(s1, "callable", callback("k", 1))).asBoolean()).isTrue();
        JsonNode caller = ok(call(s1, "eval", "lambda f: f(1, 2)"));
        List<JsonNode> asked = new ArrayList<>();
        JsonNode response = callMethodOf(caller, List.of(callback("k", 1)), asked);
        assertThat(asked).as("callback requests sent for a call with the wrong number of arguments").isEmpty();
        assertThat(error(response, "python_exception").path("type").asText()).isEqualTo("TypeError");
    }

    @Test
    @Tag("optional")
    @Requirement("CB-2")
    void callingACallbackAsksTheClientWhichMayCallBackBeforeReplying() {
        long id = worker.send("call", fields("session_id", s1, "function", "sorted", "args", List.of(List.of(3, 1, 2)),
                "kwargs", Map.of("key", callback("negate", 1))));
        for (int i = 0; i < 3; i++) {
            JsonNode request = expectCallbackRequest("negate");
            int x = request.path("args").get(0).asInt();
            JsonNode nested = worker.request("call", s1, fields("function", "operator.neg", "args", List.of(x)));
            reply(request, ok(nested).asInt());
        }
        JsonNode response = worker.readFrame();
        assertThat(response.path("id").asLong()).isEqualTo(id);
        assertThat(ok(response).toString()).isEqualTo("[3,2,1]");
    }

    @Test
    @Tag("optional")
    @Requirement("CB-3")
    void anErrorReplyRaisesCallbackErrorThatPythonMayCatchOrPassOnWithItsId() {
        long id = worker.send("call", fields("session_id", s1, "function", "sorted", "args", List.of(List.of(1)),
                "kwargs", Map.of("key", callback("fails", 1))));
        JsonNode request = expectCallbackRequest("fails");
        worker.sendMessage(fields("cid", request.get("cid").asLong(), "ok", false, "error",
                fields("code", "callback_error", "type", "java.lang.IllegalStateException", "message", "boom", "java_error_id", 7)));
        JsonNode response = worker.readFrame();
        assertThat(response.path("id").asLong()).isEqualTo(id);
        JsonNode error = error(response, "python_exception");
        assertThat(error.path("type").asText()).endsWith("CallbackError");
        assertThat(error.path("message").asText()).contains("java.lang.IllegalStateException").contains("boom");
        assertThat(error.path("java_error_id").asLong()).isEqualTo(7);
    }

    @Test
    @Tag("optional")
    @Requirement("CB-4")
    void aCallbackCalledAfterItsRequestEndedFailsInPythonWithoutAskingTheClient() {
        JsonNode box = ok(callWith(s1, "list", List.of(List.of()), Map.of(), "ref"));
        ok(worker.request("call_method", s1, fields("object", box, "method", "append", "args", List.of(callback("late", 0)))));
        JsonNode caller = ok(call(s1, "eval", "lambda box: box[0]()"));
        List<JsonNode> asked = new ArrayList<>();
        JsonNode response = callMethodOf(caller, List.of(box), asked);
        assertThat(asked).as("callback requests sent for a callback whose request has ended").isEmpty();
        assertThat(error(response, "python_exception").path("type").asText()).isEqualTo("RuntimeError");
    }

    @Test
    @Tag("optional")
    @Requirement("CB-6")
    void anExportedCallbackIsCalledDuringALaterRequestAndEndsWhenTheClientSaysSo() {
        Map<String, Object> exported = callback("kept", 1);
        exported.put("exported", true);
        JsonNode box = ok(callWith(s1, "list", List.of(List.of()), Map.of(), "ref"));
        ok(worker.request("call_method", s1, fields("object", box, "method", "append", "args", List.of(exported))));
        JsonNode caller = ok(call(s1, "eval", "lambda box, x: box[0](x)"));
        long id = worker.send("call_method", fields("session_id", s1, "object", caller, "method", "__call__",
                "args", List.of(box, 20)));
        JsonNode request = expectCallbackRequest("kept");
        assertThat(request.path("args").get(0).asInt()).isEqualTo(20);
        reply(request, 21);
        JsonNode response = worker.readFrame();
        assertThat(response.path("id").asLong()).isEqualTo(id);
        assertThat(ok(response).asInt()).isEqualTo(21);

        worker.send("call_method", fields("session_id", s1, "object", caller, "method", "__call__", "args", List.of(box, 1)));
        JsonNode ended = expectCallbackRequest("kept");
        worker.sendMessage(fields("cid", ended.get("cid").asLong(), "ok", false, "error",
                fields("code", "callback_error", "type", "java.lang.IllegalStateException", "message", "closed")));
        assertThat(error(worker.readFrame(), "python_exception").path("type").asText()).endsWith("CallbackError");

        JsonNode outside = ok(call(s1, "eval", "lambda box: __import__('threading').Thread(target=box[0], args=(1,))"));
        JsonNode thread = ok(worker.request("call_method", s1, fields("object", outside, "method", "__call__",
                "args", List.of(box), "want", "ref")));
        ok(worker.request("call_method", s1, fields("object", thread, "method", "start")));
        ok(worker.request("call_method", s1, fields("object", thread, "method", "join")));
        assertThat(ok(worker.request("ping", Map.of())).asText()).as("no callback request was sent").isEqualTo("pong");
    }

    @Test
    @Tag("optional")
    @Requirement("CB-5")
    void aSigintDuringACallbackInterruptsTheCallOnceTheCallbackReturns() {
        assumeCapability("cancel");
        long id = worker.send("call", fields("session_id", s1, "function", "sorted", "args", List.of(List.of(2, 1)),
                "kwargs", Map.of("key", callback("slow", 1))));
        JsonNode request = expectCallbackRequest("slow");
        worker.interrupt(id);
        worker.awaitInterruptTaken(id); // taken while the callback's reply is awaited: not lost
        reply(request, 0);
        JsonNode response = worker.readFrame();
        assertThat(response.path("id").asLong()).isEqualTo(id);
        error(response, "cancelled");
    }

    /**
     * A SIGINT for a request that awaits its callback's reply, taken while a request the client
     * nested in that callback runs user code: the nested request is not the target and completes;
     * the target answers {@code cancelled} once the callback returns to it.
     */
    @Test
    @Tag("optional")
    @Requirement("CANCEL-3")
    @Timeout(60)
    void aSigintForAnOuterRequestIsRaisedInItAndNeverInTheRequestNestedInIt(@TempDir Path dir) throws Exception {
        assumeCapability("cancel_target");
        assumeTheWorkerSeesFilesIn(dir);
        long outer = worker.send("call", fields("session_id", s1, "function", "sorted", "args", List.of(List.of(2, 1)),
                "kwargs", Map.of("key", callback("slow", 1))));
        JsonNode request = expectCallbackRequest("slow");
        Path mark = dir.resolve("running");
        Path release = dir.resolve("release");
        long nested = worker.send("call", fields("session_id", s1, "function", "exec", "args", List.of(markThenAwait(mark, release))));
        awaitFile(mark);
        worker.interrupt(outer);
        worker.awaitInterruptTaken(outer);
        Files.createFile(release);
        JsonNode nestedResponse = worker.readFrame();
        assertThat(nestedResponse.path("id").asLong()).isEqualTo(nested);
        ok(nestedResponse);
        reply(request, 0);
        JsonNode response = worker.readFrame();
        assertThat(response.path("id").asLong()).isEqualTo(outer);
        error(response, "cancelled");
    }
}
