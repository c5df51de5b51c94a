// Sums the unit (Vitest) and e2e (Playwright) JSON reports into one closing line.
import fs from "node:fs";

function read(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

let passed = 0;
let failed = 0;
const unit = read("reports/unit.json");
if (unit) {
  passed += unit.numPassedTests;
  failed += unit.numFailedTests;
} else {
  console.log("no unit test report (the run stopped before the unit tests)");
}
const e2e = read("reports/e2e.json");
if (e2e) {
  passed += e2e.stats.expected + e2e.stats.flaky;
  failed += e2e.stats.unexpected;
} else {
  console.log("no e2e test report (the run stopped before the e2e tests)");
}
console.log(`${passed} passed, ${failed} failed`);
