// The admission queue and the metrics registry on their own (no model).
import { describe, expect, it } from "vitest";
import { AbortError } from "../../lib/errors.js";
import { parseSystemInfo } from "../../lib/cli/inspect.js";
import { Counter, Gauge, Histogram, Registry } from "../../lib/server/metrics.js";
import { InferenceQueue } from "../../lib/server/queue.js";

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe("InferenceQueue", () => {
  it("admits pool + queue requests, then refuses", () => {
    const queue = new InferenceQueue(2, 3);
    const tickets = Array.from({ length: 5 }, () => queue.tryAdmit());
    expect(tickets.every(Boolean)).toBe(true);
    expect(queue.tryAdmit()).toBeUndefined();
    expect(queue.admitted).toBe(5);
    tickets[0]!.release();
    tickets[0]!.release(); // idempotent
    expect(queue.admitted).toBe(4);
    expect(queue.tryAdmit()).toBeDefined();
  });

  it("runs at most poolSize jobs at once, in arrival order", async () => {
    const queue = new InferenceQueue(1, 5);
    const order: number[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const runs = gates.map((gate, i) => {
      const ticket = queue.tryAdmit()!;
      return ticket.run(async () => {
        order.push(i);
        await gate.promise;
      }).finally(() => ticket.release());
    });
    await new Promise((r) => setTimeout(r, 10));
    expect([queue.running, queue.waiting]).toEqual([1, 2]);
    for (const g of gates) g.resolve();
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2]);
    expect([queue.running, queue.waiting, queue.admitted]).toEqual([0, 0, 0]);
  });

  it("an aborted waiter leaves the queue without running", async () => {
    const queue = new InferenceQueue(1, 1);
    const gate = deferred();
    const first = queue.tryAdmit()!;
    const running = first.run(() => gate.promise);
    const second = queue.tryAdmit()!;
    const controller = new AbortController();
    let ran = false;
    const waiting = second.run(async () => {
      ran = true;
    }, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    second.release();
    gate.resolve();
    await running;
    first.release();
    expect(ran).toBe(false);
    await queue.idle();
  });

  it("idle() resolves when the last ticket is released; Retry-After stays within 1..600 s", async () => {
    const queue = new InferenceQueue(1, 0);
    expect(queue.retryAfterSeconds()).toBe(10);
    const ticket = queue.tryAdmit()!;
    let idle = false;
    const waiting = queue.idle().then(() => (idle = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(idle).toBe(false);
    ticket.release();
    await waiting;
    expect(idle).toBe(true);
    expect(() => new InferenceQueue(0, 1)).toThrow(RangeError);
  });
});

describe("metrics registry", () => {
  it("renders Prometheus text", () => {
    const registry = new Registry();
    const counter = registry.add(new Counter("c_total", "A counter."));
    const zero = registry.add(new Counter("z_total", "Zero.", true));
    const histogram = registry.add(new Histogram("h", "A histogram.", [1, 5]));
    registry.add(new Gauge("g", "A gauge.", () => 3));
    counter.inc({ route: '/a"b' });
    counter.inc({ route: '/a"b' }, 2);
    histogram.observe(0.5);
    histogram.observe(2);
    histogram.observe(Number.NaN);
    expect(zero.get()).toBe(0);
    expect(registry.render()).toBe(
      [
        "# HELP c_total A counter.",
        "# TYPE c_total counter",
        'c_total{route="/a\\"b"} 3',
        "# HELP z_total Zero.",
        "# TYPE z_total counter",
        "z_total 0",
        "# HELP h A histogram.",
        "# TYPE h histogram",
        'h_bucket{le="1"} 1',
        'h_bucket{le="5"} 2',
        'h_bucket{le="+Inf"} 2',
        "h_sum 2.5",
        "h_count 2",
        "# HELP g A gauge.",
        "# TYPE g gauge",
        "g 3",
        "",
      ].join("\n"),
    );
  });
});

describe("parseSystemInfo", () => {
  it("reads whisper.cpp's system info line", () => {
    expect(parseSystemInfo("WHISPER : COREML = 0 | OPENVINO = 0 | CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 0 | ")).toEqual({
      WHISPER: { COREML: false, OPENVINO: false },
      CPU: { SSE3: true, AVX2: true, AVX512: false },
    });
  });
});
