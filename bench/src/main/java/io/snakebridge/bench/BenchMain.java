package io.snakebridge.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs every benchmark once and prints medians and ratios against the baselines measured in the same
 * run (the raw pipe ping-pong; one worker): {@code java -jar bench/target/snakebridge-bench.jar}.
 * Any JMH option ({@code -h}) runs plain JMH instead.
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        ChainedOptionsBuilder options = new OptionsBuilder().include("io\\.snakebridge\\.bench\\..*").forks(1)
                .warmupIterations(3).warmupTime(TimeValue.seconds(1)).measurementIterations(5).measurementTime(TimeValue.seconds(2));
        printTable(new Runner(options.build()).run());
    }

    static void printTable(Collection<RunResult> results) throws RunnerException {
        Map<String, Result<?>> byName = new LinkedHashMap<>();
        Map<String, RunResult> runs = new LinkedHashMap<>();
        for (RunResult run : results) {
            String name = run.getParams().getBenchmark().replaceAll(".*\\.", "");
            // every parameter in the key: mathSqrt[where=REMOTE_TLS] is not RoundTripBench's mathSqrt
            String params = run.getParams().getParamsKeys().stream().map(k -> k + "=" + run.getParams().getParam(k))
                    .collect(java.util.stream.Collectors.joining(","));
            String key = params.isEmpty() ? name : name + "[" + params + "]";
            byName.put(key, run.getPrimaryResult());
            runs.put(key, run);
        }
        double floor = p(runs.get("rawPipePingPong"), 50);
        double call = p(runs.get("mathSqrt"), 50);
        List<String> rows = new ArrayList<>();
        rows.add(String.format("%-46s %14s %14s  %s", "benchmark", "p50", "p99", "ratio"));
        for (Map.Entry<String, RunResult> e : runs.entrySet()) {
            RunResult run = e.getValue();
            String unit = run.getPrimaryResult().getScoreUnit();
            if (unit.endsWith("/op")) {
                double p50 = p(run, 50);
                double p99 = p(run, 99);
                String ratio;
                if (e.getKey().startsWith("borrowAndReturn")) {
                    ratio = String.format("%.2fx one mathSqrt call", p50 / call);
                } else if (e.getKey().equals("batchOf1000MathSqrt") || e.getKey().equals("asyncBurstOf100MathSqrt")
                        || e.getKey().equals("executeBatchOf10000MathSqrt")) {
                    ratio = "all the calls; per call below";
                } else {
                    ratio = unit.startsWith("us") ? String.format("%.2fx the raw pipe ping-pong", p50 / floor) : "";
                }
                rows.add(String.format("%-46s %10.1f %s %10.1f %s  %s", e.getKey(), p50, unit, p99, unit, ratio));
            } else {
                String ratio = "";
                if (e.getKey().startsWith("cpuBound") && e.getKey().endsWith("=2]")) {
                    RunResult one = runs.get(e.getKey().replace("=2]", "=1]"));
                    ratio = one == null ? "" : String.format("%.2fx one worker", run.getPrimaryResult().getScore() / one.getPrimaryResult().getScore());
                }
                rows.add(String.format("%-46s %10.1f %s %14s  %s", e.getKey(), run.getPrimaryResult().getScore(), unit, "", ratio));
            }
        }
        System.out.println();
        rows.forEach(System.out::println);
        System.out.println();
        RunResult batch = runs.get("batchOf1000MathSqrt");
        if (batch != null) {
            double perCall = p(batch, 50) / RoundTripBench.BATCH_SIZE;
            System.out.println(String.format("batched math.sqrt: %.2f us per call amortized = %.3fx one mathSqrt call (goal <= 0.1)",
                    perCall, perCall / call));
        }
        RunResult burst = runs.get("asyncBurstOf100MathSqrt");
        if (burst != null) {
            double perCall = p(burst, 50) / RoundTripBench.ASYNC_BURST;
            System.out.println(String.format("pipelined async math.sqrt: %.2f us per call amortized = %.3fx one mathSqrt call",
                    perCall, perCall / call));
        }
        perRow(runs, "executeBatchOf10000MathSqrt", RoundTripBench.ROWS, floor, 0.05);
        perRow(runs, "asyncBurstOf100MathSqrt", RoundTripBench.ASYNC_BURST, floor, 0.7);
        goal(runs, "preparedMathSqrt", floor, 1.25);
        goal(runs, "mathSqrt", floor, 1.5);
        RunResult fetch1000 = runs.get("streamMillionItemsFetch1000");
        RunResult fetch1 = runs.get("streamTenThousandItemsFetch1");
        if (fetch1000 != null && fetch1 != null) {
            double perItemFast = p(fetch1000, 50) * 1000 / StreamingBench.ITEMS_AT_FETCH_1000; // ms/op -> us/item
            double perItemSlow = p(fetch1, 50) * 1000 / StreamingBench.ITEMS_AT_FETCH_1;
            System.out.println(String.format("streaming small items: %.2f us per item at fetch size 1000, %.1f us at fetch size 1 = "
                    + "%.0fx faster (goal >= 20)", perItemFast, perItemSlow, perItemSlow / perItemFast));
        }
        speedup(runs, "doubleArray8MB", "rawPipe8MB", "8 MB double[] Java -> numpy -> Java: %.2fx the raw pipe's throughput (goal >= 0.5)");
        speedup(runs, "doubleArray8MB", "jsonList8MB", "8 MB double[]: %.0fx faster than a JSON list of floats");
        speedup(runs, "doubleArray8MB", "base64InJson8MB", "8 MB double[]: %.1fx faster than base64 text inside JSON");
        speedup(runs, "mathSqrt[where=SPAWN]", "mathSqrt[where=REMOTE_TLS]",
                "math.sqrt on a remote worker over loopback TLS: %.2fx the same call over a local pipe (SPAWN)");
        speedup(runs, "mathSqrt[where=FORK]", "mathSqrt[where=REMOTE_TLS]",
                "math.sqrt on a remote worker over loopback TLS: %.2fx the same call on a local FORK worker");
    }

    /** Prints a multi-call benchmark's median per call (or row) as a multiple of the floor, against its goal. */
    private static void perRow(Map<String, RunResult> runs, String name, int calls, double floor, double goal) {
        double perCall = p(runs.get(name), 50) / calls;
        if (!Double.isNaN(perCall)) {
            System.out.println(String.format("%s: %.3f us per call = %.3fx the raw pipe ping-pong (goal <= %.2f)", name, perCall,
                    perCall / floor, goal));
        }
    }

    /** Prints a single call's median as a multiple of the floor, against its goal. */
    private static void goal(Map<String, RunResult> runs, String name, double floor, double goal) {
        double p50 = p(runs.get(name), 50);
        if (!Double.isNaN(p50)) {
            System.out.println(String.format("%s: %.1f us = %.2fx the raw pipe ping-pong (goal <= %.2f)", name, p50, p50 / floor, goal));
        }
    }

    /** Prints how many times faster {@code fast} is than {@code slow}, by their medians, when both ran. */
    private static void speedup(Map<String, RunResult> runs, String fast, String slow, String format) {
        double fastP50 = p(runs.get(fast), 50);
        double slowP50 = p(runs.get(slow), 50);
        if (!Double.isNaN(fastP50) && !Double.isNaN(slowP50)) {
            System.out.println(String.format(format, slowP50 / fastP50));
        }
    }

    private static double p(RunResult run, double percentile) {
        return run == null ? Double.NaN : run.getPrimaryResult().getStatistics().getPercentile(percentile);
    }
}
