// Pause and resume through the unmodified e2b SDK: a paused sandbox is
// frozen (its processes do not run), shows as paused, is not billed, its
// timeout does not run, envd answers 502; connect resumes it with its
// processes and files as they were. Run by tests/e2e/test_serve_e2b.sh.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Sandbox, SandboxNotFoundError, FileNotFoundError } from 'e2b'

const opts = { requestTimeoutMs: 30000 }

async function agent(id) {
  const res = await fetch(`${process.env.E2B_API_URL}/api/agents/${id}`, {
    headers: { 'x-api-key': process.env.E2B_API_KEY },
  })
  assert.equal(res.status, 200)
  return await res.json()
}

// The loop's count so far; 0 until its first write (the file may not
// exist yet, or be caught mid-write).
const counter = async (sbx) => {
  try {
    return Number((await sbx.files.read('/tmp/count')).trim() || '0') || 0
  } catch (e) {
    if (e instanceof FileNotFoundError) return 0
    throw e
  }
}
const waitUntil = async (what, fn, ms = 10000) => {
  const end = Date.now() + ms
  while (!(await fn())) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('pause freezes, connect resumes', async () => {
  const sbx = await Sandbox.create('base', { ...opts, timeoutMs: 120000 })
  try {
    await sbx.commands.run('i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done',
      { background: true, timeoutMs: 0 })
    await sbx.files.write('/tmp/kept.txt', 'still here')
    await waitUntil('the counter to start', async () => (await counter(sbx)) > 2)

    assert.equal(await sbx.pause(), true)
    assert.equal(await sbx.pause(), false, 'paused already')
    assert.equal((await sbx.getInfo()).state, 'paused')
    assert.equal(await sbx.isRunning(), false, 'envd says 502 while paused')
    const paused = await Sandbox.list({ ...opts, query: { state: ['paused'] } }).nextItems()
    assert.ok(paused.some((s) => s.sandboxId === sbx.sandboxId))
    const running = await Sandbox.list({ ...opts, query: { state: ['running'] } }).nextItems()
    assert.ok(!running.some((s) => s.sandboxId === sbx.sandboxId))

    // Frozen: no CPU, no billing, no counting, for a while.
    const before = await agent(sbx.sandboxId)
    const cpuBefore = (await sbx.getMetrics())
    await new Promise((r) => setTimeout(r, 1500))
    const after = await agent(sbx.sandboxId)
    assert.equal(after.cost, before.cost, 'not billed while paused')
    assert.equal(after.execution_time_ms, before.execution_time_ms, 'run time stands still')
    assert.ok(Array.isArray(cpuBefore))

    const resumed = await sbx.connect()
    assert.equal(resumed.sandboxId, sbx.sandboxId)
    assert.equal((await sbx.getInfo()).state, 'running')
    assert.equal(await sbx.isRunning(), true)
    const n = await counter(sbx)
    await waitUntil('the counter to move again', async () => (await counter(sbx)) > n)
    assert.equal(await sbx.files.read('/tmp/kept.txt'), 'still here')
    assert.equal((await sbx.commands.run('echo ok')).stdout, 'ok\n')
  } finally {
    await sbx.kill()
  }
  await assert.rejects(Sandbox.connect(sbx.sandboxId, opts), SandboxNotFoundError)
})

test('a paused sandbox outlives its timeout, then has the time it had left', async () => {
  const sbx = await Sandbox.create('base', { ...opts, timeoutMs: 3000 })
  try {
    assert.equal(await sbx.pause(), true)
    const info = await sbx.getInfo()
    // Past the deadline it had when paused: still there, still paused.
    await new Promise((r) => setTimeout(r, Math.max(0, info.endAt.getTime() - Date.now()) + 1500))
    assert.equal((await Sandbox.getInfo(sbx.sandboxId, opts)).state, 'paused')
    await Sandbox.connect(sbx.sandboxId, opts) // with the SDK's default timeout
    assert.equal(await sbx.isRunning(), true)
  } finally {
    await Sandbox.kill(sbx.sandboxId, opts)
  }
})

test('pause errors', async () => {
  await assert.rejects(Sandbox.pause('sbx_0000000000000000', opts), SandboxNotFoundError)
  const sbx = await Sandbox.create('base', opts)
  await sbx.pause()
  assert.equal(await sbx.kill(), true, 'a paused sandbox can be killed')
  await assert.rejects(Sandbox.getInfo(sbx.sandboxId, opts), SandboxNotFoundError)
})
