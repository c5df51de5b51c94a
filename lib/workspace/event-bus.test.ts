import { describe, expect, it, vi } from "vitest";
import { useTempStore } from "@/test/store";
import { randomId } from "../crypto/ids";
import { publish, subscribe, subscriberCount, type BusEvent } from "./event-bus";

useTempStore();

const event = (seq: number): BusEvent => ({ seq, type: "deploy", payload: {}, actor: "token:x", at: 0 });

describe("event bus", () => {
  it("a listener that throws (a stream already torn down) neither fails the publisher nor starves the other listeners", () => {
    const workspaceId = randomId("ws");
    const received: number[] = [];
    const stopBroken = subscribe(workspaceId, () => {
      throw new TypeError("Invalid state: Controller is already closed");
    });
    const stopHealthy = subscribe(workspaceId, (e) => received.push(e.seq));
    expect(() => publish(workspaceId, event(1))).not.toThrow();
    expect(received).toEqual([1]);
    stopBroken();
    stopHealthy();
    expect(subscriberCount(workspaceId)).toBe(0);
  });

  it("hands every event over at once, in publish order, with the access epoch read after it was published", async () => {
    const workspaceId = randomId("ws");
    const received: [number, number | null][] = [];
    const stop = subscribe(workspaceId, (e, epoch) => void epoch.then((value) => received.push([e.seq, value])));
    for (let seq = 1; seq <= 20; seq++) publish(workspaceId, event(seq));
    await vi.waitFor(() => expect(received).toHaveLength(20));
    expect(received.map(([seq]) => seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(received.every(([, epoch]) => epoch === 0)).toBe(true);
    stop();
  });
});
