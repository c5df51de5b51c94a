/**
 * npx tsx scripts/redaction-corpus.ts — how well the built-in detectors do on the test corpus
 * (test/secrets.ts: fake secrets generated afresh on every run, and near misses that must be
 * kept). Prints, per kind, how many samples each level redacts, then the detection rate and
 * the false-positive rate over the near misses at `standard` and `strict`, then which near
 * misses strict redacts (by design it also takes long random-looking runs: images, public
 * keys). The rates are scoreCorpus's, the same definition the corpus test asserts on.
 */
import { compilePolicy, redactText, type RedactionPolicy } from "../lib/workspace/redaction";
import { nearMisses, scoreCorpus, secretSamples, strictSamples, type CorpusScore } from "../test/secrets";

const levels: [string, RedactionPolicy][] = [
  ["standard", compilePolicy({ level: "standard", customPatterns: [] })],
  ["strict", compilePolicy({ level: "strict", customPatterns: [] })],
];
const scores = levels.map(([level, policy]) => {
  const redact = (text: string) => redactText(text, policy);
  return { level, corpus: scoreCorpus(redact), strictOnly: scoreCorpus(redact, strictSamples, []) };
});

const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;
const row = (cells: (string | number)[]) => cells.map((cell, index) => (index === 0 ? String(cell).padEnd(30) : String(cell).padStart(10))).join("");
const detectedIn = (score: CorpusScore, kind: string) => score.kinds.find((entry) => entry.kind === kind)?.detected ?? 0;

const lines = [row(["kind", "samples", ...scores.map(({ level }) => level)])];
for (const { kind, samples } of scores[0]?.corpus.kinds ?? []) lines.push(row([kind, samples, ...scores.map(({ corpus }) => detectedIn(corpus, kind))]));
lines.push(
  "",
  row(["samples detected", secretSamples.length, ...scores.map(({ corpus }) => corpus.detected)]),
  row(["detection rate", "", ...scores.map(({ corpus }) => percent(corpus.detected, corpus.samples))]),
  row(["near misses redacted", nearMisses.length, ...scores.map(({ corpus }) => corpus.falsePositives)]),
  row(["false-positive rate", "", ...scores.map(({ corpus }) => percent(corpus.falsePositives, corpus.nearMisses))]),
  row(["strict-only high_entropy", strictSamples.length, ...scores.map(({ strictOnly }) => strictOnly.detected)]),
  "",
);
for (const { level, corpus } of scores) {
  for (const sample of corpus.missed) lines.push(`${level} missed ${sample.kind}: ${JSON.stringify(sample.text.slice(0, 70))}`);
  for (const text of corpus.changed) lines.push(`${level} redacts near miss: ${JSON.stringify(text.slice(0, 70))}`);
}
console.log(lines.join("\n"));
