// Prints vitest's JSON report as the plain closing line CI tools read: "N passed, N failed, N skipped".
import { readFileSync } from "node:fs"

const r = JSON.parse(readFileSync(process.argv[2] ?? ".cache/vitest.json", "utf8"))
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`)
process.exitCode = r.success ? 0 : 1
