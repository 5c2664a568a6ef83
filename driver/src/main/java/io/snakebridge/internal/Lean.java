package io.snakebridge.internal;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.snakebridge.ProtocolException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The lean encoding of prepared calls and calls by name (PROTOCOL.md LEAN-*): a request written straight into bytes
 * and an answer read straight from them, with no JSON on either side. Only what has a lean form
 * travels so: {@link #request} returns null for anything else, and the worker answers in JSON where
 * its answer has no lean form. The hot path: no maps, no JSON tree but the small one a response
 * becomes.
 */
final class Lean {
    static final byte MAGIC = (byte) 0xB1;
    private static final byte CALL_PREPARED = 1;
    private static final byte EXECUTE_PREPARED = 2;
    private static final byte CALL = 3;
    /** The dtypes of an executeBatch array, by their want code (0: values). */
    private static final List<String> DTYPES = List.of("", "", "float64", "int64", "int32", "float32", "bool");
    private static final int MAX_U16 = 0xFFFF;

    private Lean() {
    }

    /** The lean frame of {@code request}, or null where it has no lean form. */
    static byte[] request(long id, String sessionId, Request request) {
        boolean byName = request.op == Request.Op.CALL;
        if (byName && (request.field("kwargs") != null || request.field("want") != null)) {
            return null; // keyword arguments, or a result wanted other than as a value: JSON carries them
        }
        Object target = request.field(byName ? "function" : "prepared");
        if (!(target instanceof String)) {
            return null;
        }
        byte[] session = sessionId.getBytes(StandardCharsets.UTF_8);
        byte[] targetId = ((String) target).getBytes(StandardCharsets.UTF_8);
        if (session.length > MAX_U16 || targetId.length > MAX_U16) {
            return null;
        }
        if (byName || request.op == Request.Op.CALL_PREPARED) {
            return call(byName ? CALL : CALL_PREPARED, id, session, targetId, request.field("args"));
        }
        if (request.op == Request.Op.EXECUTE_PREPARED && request.leanColumns() != null) {
            return execute(id, session, targetId, request.field("dtype"), request.leanColumns());
        }
        return null;
    }

    /** The header of a lean request: magic, op, id, session id, and the prepared id or function name. */
    private static ByteBuffer head(int size, byte op, long id, byte[] session, byte[] target) {
        ByteBuffer out = ByteBuffer.allocate(size + 14 + session.length + target.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put(op).putLong(id).putShort((short) session.length).put(session);
        return out.putShort((short) target.length).put(target);
    }

    private static byte[] call(byte op, long id, byte[] session, byte[] target, Object args) {
        if (!(args instanceof List) || ((List<?>) args).size() > 255) {
            return null;
        }
        List<?> list = (List<?>) args;
        int size = 1;
        byte[][] texts = new byte[list.size()][];
        for (int i = 0; i < list.size(); i++) {
            Object arg = list.get(i);
            if (arg instanceof String) {
                if (hasLoneSurrogate((String) arg)) {
                    return null; // UTF-8 cannot carry it (getBytes would write '?'); JSON escapes it
                }
                texts[i] = ((String) arg).getBytes(StandardCharsets.UTF_8);
                size += 5 + texts[i].length;
            } else if (arg instanceof Double || arg instanceof Long) {
                size += 9;
            } else if (arg == null || arg instanceof Boolean) {
                size += 1;
            } else {
                return null; // a container, a tag (a ref, a special float...): JSON carries it
            }
        }
        ByteBuffer out = head(size, op, id, session, target).put((byte) list.size());
        for (int i = 0; i < list.size(); i++) {
            Object arg = list.get(i);
            if (arg instanceof Double) {
                out.put((byte) 'd').putDouble((Double) arg);
            } else if (arg instanceof Long) {
                out.put((byte) 'q').putLong((Long) arg);
            } else if (arg instanceof String) {
                out.put((byte) 's').putInt(texts[i].length).put(texts[i]);
            } else if (arg == null) {
                out.put((byte) 'N');
            } else {
                out.put((byte) ((Boolean) arg ? 'T' : 'F'));
            }
        }
        return out.array();
    }

    private static boolean hasLoneSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    private static byte[] execute(long id, byte[] session, byte[] preparedId, Object dtype, List<Object> columns) {
        int want = dtype == null ? 0 : DTYPES.indexOf(dtype);
        int rows = columns.isEmpty() ? 0 : length(columns.get(0));
        if (want < 0 || columns.isEmpty() || columns.size() > 255) {
            return null;
        }
        long size = 6;
        for (Object column : columns) {
            if (length(column) != rows) {
                return null;
            }
            size += 1 + 8L * rows;
        }
        if (size > Integer.MAX_VALUE - MAX_U16 * 2 - 64) {
            return null;
        }
        ByteBuffer out = head((int) size, EXECUTE_PREPARED, id, session, preparedId);
        out.put((byte) want).putInt(rows).put((byte) columns.size());
        for (Object column : columns) {
            if (column instanceof double[]) {
                out.put((byte) 'd');
                out.asDoubleBuffer().put((double[]) column);
            } else {
                out.put((byte) 'q');
                out.asLongBuffer().put((long[]) column);
            }
            out.position(out.position() + 8 * rows);
        }
        return out.array();
    }

    private static int length(Object column) {
        if (column instanceof double[]) {
            return ((double[]) column).length;
        }
        return column instanceof long[] ? ((long[]) column).length : -1;
    }

    /**
     * The response a lean frame carries, as the JSON of the same answer would read: an ok response
     * whose result is a scalar, or an execute_prepared array with no failed row. A frame that is
     * not exactly well-formed means the stream cannot be trusted.
     */
    static Message response(byte[] payload, JsonNodeFactory nodes) {
        ByteBuffer in = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        try {
            in.get(); // the magic byte, checked by the caller
            long id = in.getLong();
            byte kind = in.get();
            ObjectNode body = nodes.objectNode().put("id", id).put("ok", true);
            List<byte[]> attachments = List.of();
            switch (kind) {
                case 'd':
                    body.put("result", in.getDouble());
                    break;
                case 'q':
                    body.put("result", in.getLong());
                    break;
                case 's':
                    body.put("result", text(in, in.getInt()));
                    break;
                case 'T':
                case 'F':
                    body.put("result", kind == 'T');
                    break;
                case 'N':
                    body.putNull("result");
                    break;
                case 'A':
                    attachments = List.of(array(in, body, nodes));
                    break;
                default:
                    throw new ProtocolException("worker sent a lean response of unknown kind " + kind);
            }
            if (in.hasRemaining()) {
                throw new ProtocolException("worker sent a lean response with " + in.remaining() + " bytes after its value");
            }
            return new Message(body, attachments);
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
            throw new ProtocolException("worker sent a lean response that ends early or is malformed (" + e + ")", e);
        }
    }

    /** An execute_prepared array answer: {"values": ndarray (attachment 0), "errors": {}}; returns the data. */
    private static byte[] array(ByteBuffer in, ObjectNode body, JsonNodeFactory nodes) {
        int code = in.get();
        long count = Integer.toUnsignedLong(in.getInt());
        if (code < 2 || code >= DTYPES.size()) {
            throw new ProtocolException("worker sent a lean array of unknown dtype code " + code);
        }
        String dtype = DTYPES.get(code);
        long itemSize = dtype.equals("bool") ? 1 : dtype.endsWith("64") ? 8 : 4;
        if (count * itemSize != in.remaining()) {
            throw new ProtocolException("worker sent a lean " + dtype + " array of " + count + " items in " + in.remaining() + " bytes");
        }
        byte[] data = new byte[in.remaining()];
        in.get(data);
        ObjectNode values = nodes.objectNode().put("__type__", "ndarray").put("__schema__", 1).put("dtype", dtype).put("attachment", 0);
        values.putArray("shape").add(count);
        ObjectNode result = body.putObject("result");
        result.set("values", values);
        result.putObject("errors");
        return data;
    }

    private static String text(ByteBuffer in, int length) {
        if (length < 0 || length > in.remaining()) {
            throw new ProtocolException("worker sent a lean string of " + Integer.toUnsignedLong(length) + " bytes in a frame of "
                    + in.remaining() + " left");
        }
        ByteBuffer bytes = in.slice().limit(length);
        in.position(in.position() + length);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException("worker sent a lean string that is not valid UTF-8", e);
        }
    }

    /**
     * The routing of a lean answer being dropped (past maxResponseBytes, CLIENT-5): its request id,
     * read from {@code in}, the frame after its magic byte.
     */
    static ObjectNode routing(InputStream in, JsonNodeFactory nodes) throws IOException {
        byte[] id = in.readNBytes(8);
        if (id.length < 8) {
            throw new ProtocolException("worker sent a lean response that ends inside its request id");
        }
        return nodes.objectNode().put("id", ByteBuffer.wrap(id).order(ByteOrder.LITTLE_ENDIAN).getLong());
    }

    /** Whether a frame is lean: no UTF-8 text, so no JSON, starts with its first byte. */
    static boolean isLean(byte[] payload) {
        return payload.length > 0 && payload[0] == MAGIC;
    }
}
