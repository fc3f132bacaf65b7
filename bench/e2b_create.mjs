// E2B SDK benchmark against evoclaw serve (run by bench/e2b.sh):
//  1. SEQ times: Sandbox.create('base') then commands.run('echo ok'),
//     timed from the create call to the first stdout chunk; the sandbox
//     is killed after (not timed);
//  2. CONC creates issued at once: time until every one answered (ready
//     to run a command), then until every one ran `echo ok`.
// Prints one JSON line of results.
import { createRequire } from 'node:module'
const require = createRequire(new URL('../tests/e2b/package.json', import.meta.url))
const { Sandbox } = require('e2b')

const seq = Number(process.env.SEQ || 200)
const conc = Number(process.env.CONC || 100)
const template = process.env.TEMPLATE || 'base'
const opts = { requestTimeoutMs: 60000 }

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]
}
const now = () => Number(process.hrtime.bigint()) / 1e6

const firstOutput = []
for (let i = 0; i < seq + 5; i++) {
  const t0 = now()
  const sbx = await Sandbox.create(template, opts)
  let t1 = 0
  await sbx.commands.run('echo ok', { onStdout: () => { if (!t1) t1 = now() } })
  if (i >= 5) firstOutput.push(t1 - t0) // the first few warm the SDK's connections
  await sbx.kill()
}

const t0 = now()
const made = await Promise.all(Array.from({ length: conc }, () => Sandbox.create(template, opts)))
const ready = now() - t0
await Promise.all(made.map((s) => s.commands.run('echo ok')))
const ran = now() - t0
await Promise.all(made.map((s) => s.kill()))

console.log(JSON.stringify({
  seq, conc,
  first_output_ms: { p50: pct(firstOutput, 50), p90: pct(firstOutput, 90), p99: pct(firstOutput, 99),
                     min: Math.min(...firstOutput), max: Math.max(...firstOutput) },
  concurrent_ready_ms: ready, concurrent_all_ran_ms: ran,
}))
