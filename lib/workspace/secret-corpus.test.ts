import { describe, expect, it } from "vitest";
import { nearMisses, scoreCorpus, secretSamples, type SecretSample } from "@/test/secrets";
import { defaultPolicy, redactText } from "./redaction";
import { builtInDetectors, specificDetectors, strictDetectors, type SecretDetector, type SecretSpan } from "./secret-patterns";

// The corpus itself lives in test/secrets.ts, so the path tests (REST, MCP, every field) use it too.
const spansOf = (detector: SecretDetector, text: string): SecretSpan[] => [...detector.find(text)];

describe("the redaction corpus", () => {
  it("is large and varied: >= 60 provider samples over >= 50 kinds, >= 40 near misses", () => {
    const providers = secretSamples.filter((sample) => !["generic_secret", "private_key", "jwt"].includes(sample.kind));
    expect(providers.length).toBeGreaterThanOrEqual(60);
    expect(new Set(providers.map((sample) => sample.kind)).size).toBeGreaterThanOrEqual(50);
    expect(nearMisses.length).toBeGreaterThanOrEqual(40);
  });

  it("is detected in full at standard, each sample as its own kind, with no false positive", () => {
    const score = scoreCorpus((text) => redactText(text, defaultPolicy));
    expect(score.missed.map((sample) => `${sample.kind}: ${sample.text.slice(0, 60)}`)).toEqual([]);
    expect(score.changed).toEqual([]);
    expect(score.detected / score.samples).toBe(1);
    expect(score.falsePositives / score.nearMisses).toBe(0);
  });

  it("exercises every built-in detector, not only every kind", () => {
    const idle = builtInDetectors.filter((detector) => !secretSamples.some((sample) => spansOf(detector, sample.text).length > 0));
    expect(idle.map((detector) => detector.kind)).toEqual([]);
  });
});

type Screened = SecretDetector & { parts: readonly SecretDetector[] };

describe("the provider-token screen", () => {
  const screen = specificDetectors.find((detector): detector is Screened => "parts" in detector);
  if (!screen) throw new Error("specificDetectors has no screened group of provider tokens");
  // Shorter prefixes hidden inside longer ones, keys at the very start and end, keys split by a line break.
  const tricky = [
    `sk-ant-${"a1".repeat(6)} then sk-${"b2".repeat(12)}`,
    `sk-ant-${"c3D4".repeat(8)}`,
    `${"e5".repeat(16)}-us7`,
    `xsk-proj-${"f6".repeat(12)} and \\nsk-proj-${"g7".repeat(12)}`,
    `sk-or-v1-${"0a".repeat(31)}sk-${"h8".repeat(12)}`,
  ];

  it.each([...secretSamples.map((sample) => sample.text), secretSamples.map((sample) => sample.text).join("\n"), ...nearMisses, ...tricky])(
    "skips only detectors that find nothing in %#",
    (text) => {
      expect(spansOf(screen, text)).toEqual(screen.parts.flatMap((part) => spansOf(part, text)));
    },
  );
});

const LONG = 200_000;
const repeatTo = (unit: string) => unit.repeat(Math.ceil(LONG / unit.length)).slice(0, LONG);

/** Inputs built from a real sample of the detector: the shapes that make a backtracking engine work hardest. */
function hostileInputs(secret: string): [string, string][] {
  return [
    ["its first 4 characters repeated", repeatTo(secret.slice(0, 4))],
    ["its first half repeated", repeatTo(secret.slice(0, Math.ceil(secret.length / 2)))],
    ["the token less its last character, repeated", repeatTo(secret.slice(0, -1))],
    ["the same, space-separated", repeatTo(secret.slice(0, -1) + " ")],
    ["the token with its body running 200k past the bound", secret + repeatTo(secret.slice(-1))],
    ["its alphabet cycled", repeatTo([...new Set(secret)].join(""))],
  ];
}

/** In order, within the text, non-empty and not overlapping: what resolveSpans relies on. */
function malformed(spans: SecretSpan[], length: number): SecretSpan[] {
  let previousEnd = 0;
  return spans.filter((span) => {
    const bad = span.start < previousEnd || span.end <= span.start || span.end > length;
    previousEnd = Math.max(previousEnd, span.end);
    return bad;
  });
}

describe("every detector on adversarial input finishes with well-formed output (the 5 s timeout is the bound)", () => {
  const cases = [...builtInDetectors, ...strictDetectors].map((detector, index) => {
    const own = secretSamples.filter((sample) => spansOf(detector, sample.text).length > 0).slice(0, 2);
    return { name: `${index} ${detector.kind}`, detector, samples: own.length > 0 ? own : secretSamples.slice(0, 1) };
  });

  it.each(cases)("$name", ({ detector, samples }: { detector: SecretDetector; samples: SecretSample[] }) => {
    for (const { secret, text } of samples) {
      for (const [shape, input] of hostileInputs(secret)) {
        expect(malformed(spansOf(detector, input), input.length), shape).toEqual([]);
      }
      // Its own line many times over: exactly the single line's spans, shifted, every time.
      const once = spansOf(detector, text);
      const copies = Math.ceil(LONG / (text.length + 1));
      const expected = Array.from({ length: copies }, (_, copy) =>
        once.map((span) => ({ ...span, start: span.start + copy * (text.length + 1), end: span.end + copy * (text.length + 1) })),
      ).flat();
      expect(spansOf(detector, `${text}\n`.repeat(copies))).toEqual(expected);
    }
  }, 5_000);
});
