// The unmodified e2b SDK (pinned in package-lock.json) against evoclaw
// serve: the control plane (create, getInfo, list with metadata filters and
// paging, setTimeout, getMetrics, connect, kill, errors). Run by
// tests/e2e/test_e2b.sh, which starts the server and sets E2B_API_URL,
// E2B_SANDBOX_URL and E2B_API_KEY.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Sandbox, SandboxNotFoundError, AuthenticationError, SandboxError } from 'e2b'

const opts = { requestTimeoutMs: 30000 }

test('create answers with a running sandbox and its envd token', async () => {
  const sbx = await Sandbox.create('minimal', { ...opts, timeoutMs: 60000, metadata: { suite: 'cp', n: '1' } })
  try {
    assert.match(sbx.sandboxId, /^sbx_[0-9a-f]{16}$/)
    const info = await sbx.getInfo()
    assert.equal(info.sandboxId, sbx.sandboxId)
    assert.equal(info.templateId, 'minimal')
    assert.equal(info.state, 'running')
    assert.deepEqual(info.metadata, { suite: 'cp', n: '1' })
    assert.ok(info.endAt.getTime() - info.startedAt.getTime() >= 59000)
    assert.ok(await sbx.isRunning(), 'envd /health says it runs')
  } finally {
    assert.equal(await sbx.kill(), true)
  }
  assert.equal(await Sandbox.kill(sbx.sandboxId, opts), false, 'a second kill finds nothing')
  await assert.rejects(Sandbox.getInfo(sbx.sandboxId, opts), SandboxNotFoundError)
})

test('list filters by metadata (with characters that need encoding) and pages', async () => {
  const tag = `t${Date.now()}`
  const made = []
  try {
    for (let i = 0; i < 3; i++)
      made.push(await Sandbox.create('minimal', { ...opts, metadata: { 'list tag': tag, 'odd&=': 'a b&c=d', i: String(i) } }))
    const other = await Sandbox.create('minimal', { ...opts, metadata: { 'list tag': 'someone else' } })
    made.push(other)
    const seen = []
    const pager = Sandbox.list({ ...opts, query: { metadata: { 'list tag': tag, 'odd&=': 'a b&c=d' } }, limit: 2 })
    let pages = 0
    while (pager.hasNext) {
      const items = await pager.nextItems()
      pages++
      for (const s of items) seen.push(s.sandboxId)
      assert.ok(items.length <= 2)
    }
    assert.equal(pages, 2)
    assert.deepEqual(seen.sort(), made.slice(0, 3).map((s) => s.sandboxId).sort())
    const running = Sandbox.list({ ...opts, query: { state: ['running'], metadata: { 'list tag': 'someone else' } } })
    const items = await running.nextItems()
    assert.deepEqual(items.map((s) => s.sandboxId), [other.sandboxId])
    assert.equal(items[0].state, 'running')
  } finally {
    for (const s of made) await s.kill()
  }
})

test('setTimeout moves the end; connect extends it; metrics report usage', async () => {
  const sbx = await Sandbox.create('minimal', { ...opts, timeoutMs: 30000 })
  try {
    await sbx.setTimeout(120000)
    let info = await sbx.getInfo()
    assert.ok(info.endAt.getTime() - Date.now() > 110000, `endAt ${info.endAt}`)
    await sbx.setTimeout(5000)
    info = await sbx.getInfo()
    assert.ok(info.endAt.getTime() - Date.now() < 6000)
    const again = await Sandbox.connect(sbx.sandboxId, { ...opts, timeoutMs: 60000 })
    assert.equal(again.sandboxId, sbx.sandboxId)
    info = await sbx.getInfo()
    assert.ok(info.endAt.getTime() - Date.now() > 50000, 'connect extended its time')
    const metrics = await sbx.getMetrics()
    assert.ok(metrics.length >= 1)
    assert.ok(metrics[0].memTotal > 0)
    assert.ok(metrics[0].cpuCount >= 1)
    assert.ok(metrics[0].timestamp instanceof Date)
  } finally {
    await sbx.kill()
  }
})

test('a sandbox dies at its timeout', async () => {
  const sbx = await Sandbox.create('minimal', { ...opts, timeoutMs: 1000 })
  const deadline = Date.now() + 5000
  while (Date.now() < deadline && (await sbx.isRunning())) await new Promise((r) => setTimeout(r, 50))
  assert.equal(await sbx.isRunning(), false)
  await assert.rejects(sbx.getInfo(), SandboxNotFoundError)
})

test('errors: bad key, unknown sandbox, unknown template', async () => {
  await assert.rejects(Sandbox.create('minimal', { ...opts, apiKey: 'evo_admin_wrong' }), AuthenticationError)
  await assert.rejects(Sandbox.connect('sbx_0000000000000000', opts), SandboxNotFoundError)
  await assert.rejects(Sandbox.setTimeout('sbx_0000000000000000', 1000, opts), SandboxNotFoundError)
  await assert.rejects(Sandbox.create('no-such-template', opts), (e) => e instanceof SandboxError && /404/.test(e.message))
})

test('concurrent creates all answer, each with its own sandbox', async () => {
  const made = await Promise.all(Array.from({ length: 8 }, () => Sandbox.create('minimal', opts)))
  try {
    assert.equal(new Set(made.map((s) => s.sandboxId)).size, 8)
    for (const s of made) assert.equal((await s.getInfo()).state, 'running')
  } finally {
    await Promise.all(made.map((s) => s.kill()))
  }
})
