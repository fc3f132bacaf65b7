// Many connections at once (spec §2: the server must take about 310
// concurrent keep-alive connections): 320 commands streaming at the same
// time, 160 in each of two sandboxes (a sandbox's pids limit is 512), each
// stream on its own connection, while 40 more clients use the control
// plane.
import { test } from 'node:test'
import assert from 'node:assert/strict'

// The SDK's envd pool holds 200 connections unless told otherwise; read
// when it loads.
process.env.E2B_ENVD_RPC_CONNECTIONS = '400'
const { Sandbox } = await import('e2b')

const PER_SANDBOX = 160

test('320 concurrent streams', async () => {
  const opts = { requestTimeoutMs: 60000, timeoutMs: 120000 }
  const sandboxes = await Promise.all([Sandbox.create('base', opts), Sandbox.create('base', opts)])
  try {
    // Each command waits on its own fifo, so all must run at once
    // before any can finish.
    await Promise.all(sandboxes.map((s) =>
      s.commands.run(`for i in $(seq 0 ${PER_SANDBOX - 1}); do mkfifo /tmp/f$i; done`)))
    const handles = (await Promise.all(sandboxes.map((s) =>
      Promise.all(Array.from({ length: PER_SANDBOX }, (_, i) =>
        s.commands.run(`read l < /tmp/f${i}; echo $l ${i}`, { background: true })))))).flat()
    assert.equal(handles.length, 2 * PER_SANDBOX)
    for (const s of sandboxes)
      assert.equal((await s.commands.list()).length, PER_SANDBOX, 'all run at once')
    const infos = await Promise.all(Array.from({ length: 40 }, () => Sandbox.getInfo(sandboxes[0].sandboxId)))
    assert.ok(infos.every((i) => i.state === 'running'))
    await Promise.all(sandboxes.map((s) =>
      s.commands.run(`for i in $(seq 0 ${PER_SANDBOX - 1}); do echo go > /tmp/f$i; done`)))
    const results = await Promise.all(handles.map((h) => h.wait()))
    results.forEach((r, n) => assert.equal(r.stdout, `go ${n % PER_SANDBOX}\n`))
  } finally {
    await Promise.all(sandboxes.map((s) => s.kill()))
  }
})
