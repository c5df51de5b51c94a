import { describe, expect, it } from "vitest";
import { randomId } from "../crypto/tokens";
import { publish, subscribe, subscriberCount, type BusEvent } from "./event-bus";

const event: BusEvent = { seq: 1, type: "deploy", payload: {}, actor: "token:x", at: 0 };

describe("event bus", () => {
  it("a listener that throws (a stream already torn down) neither fails the publisher nor starves the other listeners", () => {
    const workspaceId = randomId("ws");
    const received: number[] = [];
    const stopBroken = subscribe(workspaceId, () => {
      throw new TypeError("Invalid state: Controller is already closed");
    });
    const stopHealthy = subscribe(workspaceId, (e) => received.push(e.seq));
    expect(() => publish(workspaceId, event)).not.toThrow();
    expect(received).toEqual([1]);
    stopBroken();
    stopHealthy();
    expect(subscriberCount(workspaceId)).toBe(0);
  });
});
