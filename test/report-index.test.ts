import { execFile } from "node:child_process"
import { mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { promisify } from "node:util"
import { chromium } from "playwright-core"
import { describe, expect, it } from "vitest"

const run = promisify(execFile)

// Debian's chromium (npx playwright install cannot download browsers here); .ci/run installs it.
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"

describe("results/index.html", () => {
  it("links every run's plots, and every plot loads in headless Chromium", async () => {
    const root = mkdtempSync(join(tmpdir(), "skymemory-results-"))
    const env = { ...process.env, SKYMEMORY_RESULTS: root }
    await run(process.execPath, ["--import", "tsx", "experiments/paper-parity.ts", "--quiet"], { env, timeout: 120_000 })
    const runDir = join(root, "paper-parity", readdirSync(join(root, "paper-parity"))[0]!)
    const svgs = readdirSync(runDir).filter((f) => f.endsWith(".svg"))
    expect(svgs.length).toBe(4)
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-background-networking"] })
    try {
      const page = await browser.newPage()
      const failed: Array<string> = []
      page.on("requestfailed", (r) => failed.push(r.url()))
      await page.goto(pathToFileURL(join(root, "index.html")).href, { waitUntil: "load" })
      const images = await page.$$eval("img", (imgs) => imgs.map((i) => ({ src: i.getAttribute("src"), ok: i.complete && i.naturalWidth > 0 })))
      expect(images.map((i) => i.src?.split("/").pop()).sort()).toEqual(svgs.sort())
      expect(images.filter((i) => !i.ok)).toEqual([])
      expect(failed).toEqual([])
      // The key numbers are on the page.
      expect(await page.textContent("body")).toContain("hop_rotation max s (21 MiB)")
    } finally {
      await browser.close()
    }
  }, 120_000)
})
