// Corpus: seeded PRNG, a Zipf-distributed vocabulary (real words first, then a long tail of
// made-up names), so query terms range from "in a fifth of the entries" to "in a few dozen".

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COMMON = `the of and to a in is for that on with it this as be we are by from at or not an if
when should can will but all have our use one which new was into more only so no then any each
has out than also must after before its they them there would may per`.split(/\s+/);

const DOMAIN = `deploy deployment service server client request response cache database index query
migration schema table column token session user account workspace team agent model prompt
context memory knowledge search result error failure retry timeout latency throughput queue
worker job task pipeline build release version branch commit merge review test fixture mock
config setting environment variable secret key certificate domain proxy gateway endpoint route
handler middleware logging metric alert dashboard incident outage rollback backup restore
snapshot replica primary shard partition cluster node container image registry volume network
firewall policy permission role scope audit compliance encryption decryption signature hash
payload header cookie redirect upload download artifact bundle dependency package library
module function method class interface type field record document note summary decision
meeting customer invoice billing payment subscription plan trial quota limit budget forecast
report analysis experiment feature flag rollout canary traffic region zone latency storage
disk memory cpu thread process signal event stream message topic subscriber publisher webhook
callback integration api sdk cli portal browser mobile desktop design review spec draft
proposal roadmap milestone deadline owner stakeholder onboarding handbook runbook playbook
checklist postmortem root cause mitigation fix patch hotfix regression bug issue ticket
priority severity triage backlog sprint estimate velocity capacity benchmark profile trace
span sample histogram percentile median average spike baseline threshold budget sqlite
postgres redis kafka nginx kubernetes docker terraform ansible github gitlab slack email
calendar invoice contract vendor legal privacy gdpr retention deletion export import sync
offline conflict resolution merge vector embedding ranking relevance snippet highlight
tokenizer parser compiler runtime garbage collection heap stack pointer buffer socket tls
handshake dns resolver ttl expiry refresh rotation revocation quarantine sandbox isolation`.split(/\s+/);

const SYLLABLES = "ka lo mi re su ta vo ne xi pa ru do fe gi ho ja ki lu ma no po qua ri sa te vi wo ze bra cle dri fro glo".split(" ");

export function buildVocabulary(): string[] {
  const random = mulberry32(7);
  const words = [...new Set([...COMMON, ...DOMAIN])];
  const seen = new Set(words);
  while (words.length < 3500) {
    const length = 2 + Math.floor(random() * 2);
    let word = "";
    for (let i = 0; i < length; i++) word += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    if (!seen.has(word)) {
      seen.add(word);
      words.push(word);
    }
  }
  return words;
}

export const TAGS = `backend frontend infra security ops billing onboarding incident research design api
mobile data ml docs legal hiring perf release support sales platform storage auth search`.split(/\s+/);

export type Text = { title: string; body: string; tags: string[] };

export function corpusGenerator(vocabulary: string[], seed: number) {
  const random = mulberry32(seed);
  // Zipf, s = 1: the word of rank r has probability ∝ 1/r.
  const cumulative: number[] = [];
  let total = 0;
  for (let rank = 1; rank <= vocabulary.length; rank++) cumulative.push((total += 1 / rank));
  const word = () => {
    const x = random() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] ?? 0) < x) lo = mid + 1;
      else hi = mid;
    }
    return vocabulary[lo] ?? "";
  };
  const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  return (): Text => {
    const title = capitalize(Array.from({ length: between(3, 8) }, word).join(" "));
    const sentences: string[] = [];
    for (let left = between(50, 200); left > 0; ) {
      const n = Math.min(left, between(6, 16));
      sentences.push(`${capitalize(Array.from({ length: n }, word).join(" "))}.`);
      left -= n;
    }
    const tags = new Set(Array.from({ length: between(0, 4) }, () => TAGS[Math.floor(random() * TAGS.length)] ?? "misc"));
    return { title, body: sentences.join(" "), tags: [...tags] };
  };
}

/**
 * 20 single-term queries spread evenly on a log scale of document frequency, from the most
 * common content word down to words in about 20 entries (stop words are left out: every entry
 * has them).
 */
export function pickQueries(documentFrequency: Map<string, number>, vocabulary: string[]): { q: string; df: number }[] {
  const stop = new Set(COMMON);
  const candidates = vocabulary.filter((w) => !stop.has(w) && (documentFrequency.get(w) ?? 0) >= 20).map((w) => ({ q: w, df: documentFrequency.get(w) ?? 0 }));
  const top = Math.max(...candidates.map((c) => c.df));
  const picked: { q: string; df: number }[] = [];
  for (let i = 0; i < 20; i++) {
    const target = Math.exp(Math.log(top) + (i / 19) * (Math.log(20) - Math.log(top)));
    const best = candidates.filter((c) => !picked.includes(c)).sort((a, b) => Math.abs(Math.log(a.df / target)) - Math.abs(Math.log(b.df / target)))[0];
    if (best) picked.push(best);
  }
  return picked;
}

// ---------------------------------------------------------------------------------------------
