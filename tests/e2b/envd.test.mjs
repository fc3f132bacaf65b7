// The unmodified e2b SDK against evoclaw's envd: commands (foreground,
// background, stdin, kill, cwd, envs, user, reconnecting), files (text,
// 10 MiB binary, multi-file, list, exists, makeDir, rename, remove,
// getInfo, watchDir), the access token, and 50 sandboxes at once. Run by
// tests/e2e/test_serve_e2b.sh, which starts the server and sets
// E2B_API_URL, E2B_SANDBOX_URL and E2B_API_KEY.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { Sandbox, CommandExitError, FileNotFoundError, AuthenticationError, SandboxError } from 'e2b'

const opts = { requestTimeoutMs: 30000 }

async function withSandbox(fn, createOpts = {}) {
  const sbx = await Sandbox.create('base', { ...opts, timeoutMs: 120000, ...createOpts })
  try {
    return await fn(sbx)
  } finally {
    await sbx.kill()
  }
}

test('commands.run: output callbacks, exit codes, envs, cwd and users', () =>
  withSandbox(async (sbx) => {
    const out = []
    const err = []
    const r = await sbx.commands.run('echo one; echo two >&2; echo "$SBX_VAR $CMD_VAR"', {
      envs: { CMD_VAR: 'cmd' },
      onStdout: (d) => out.push(d),
      onStderr: (d) => err.push(d),
    })
    assert.equal(r.exitCode, 0)
    assert.equal(r.stdout, 'one\nsbx cmd\n', 'sandbox envVars and command envs both apply')
    assert.equal(r.stderr, 'two\n')
    assert.equal(out.join(''), r.stdout)
    assert.equal(err.join(''), r.stderr)

    const e = await sbx.commands.run('echo partial; exit 7').catch((x) => x)
    assert.ok(e instanceof CommandExitError, `got ${e}`)
    assert.equal(e.exitCode, 7)
    assert.equal(e.stdout, 'partial\n')

    assert.equal((await sbx.commands.run('id -un; pwd')).stdout, 'user\n/home/user\n')
    assert.equal((await sbx.commands.run('id -un; pwd', { user: 'root' })).stdout, 'root\n/root\n')
    assert.equal((await sbx.commands.run('pwd', { cwd: '/tmp' })).stdout, '/tmp\n')
    assert.equal((await sbx.commands.run('echo $SBX_VAR', { envs: { SBX_VAR: 'over' } })).stdout, 'over\n')
    await assert.rejects(sbx.commands.run('true', { user: 'nosuchuser' }), AuthenticationError)
    await assert.rejects(sbx.commands.run('true', { cwd: '/does/not/exist' }), SandboxError)
  }, { envs: { SBX_VAR: 'sbx' } }))

test('background commands: stdin, kill, list, and a process that outlives its stream', () =>
  withSandbox(async (sbx) => {
    const cat = await sbx.commands.run('cat', { background: true, stdin: true })
    await sbx.commands.sendStdin(cat.pid, 'line 1\n')
    await cat.sendStdin('line 2\n')
    await sbx.commands.closeStdin(cat.pid)
    const done = await cat.wait()
    assert.equal(done.stdout, 'line 1\nline 2\n')

    const sleeper = await sbx.commands.run('sleep 600', { background: true })
    const listed = await sbx.commands.list()
    const mine = listed.find((p) => p.pid === sleeper.pid)
    assert.ok(mine, `pid ${sleeper.pid} in ${JSON.stringify(listed)}`)
    assert.deepEqual(mine.args, ['-l', '-c', 'sleep 600'])
    assert.equal(await sleeper.kill(), true)
    const killed = await sleeper.wait().catch((x) => x)
    assert.ok(killed instanceof CommandExitError, 'a killed command is an error')
    assert.equal(await sbx.commands.kill(sleeper.pid), false, 'it is gone')

    // Started, its stream dropped, still running, then found again by pid.
    const writer = await sbx.commands.run('for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.3; done; echo done > /tmp/writer.out',
      { background: true })
    await writer.disconnect()
    const again = await sbx.commands.connect(writer.pid)
    const result = await again.wait()
    assert.equal(result.exitCode, 0)
    assert.match(result.stdout, /tick 6/)
    assert.equal(await sbx.files.read('/tmp/writer.out'), 'done\n')
  }))

test('files: text, 10 MiB binary, several at once, and the directory calls', () =>
  withSandbox(async (sbx) => {
    const info = await sbx.files.write('notes/a.txt', 'hello')
    assert.equal(info.path, '/home/user/notes/a.txt')
    assert.equal(await sbx.files.read('notes/a.txt'), 'hello')
    assert.equal((await sbx.commands.run('stat -c %U notes/a.txt')).stdout, 'user\n', 'the user owns it')

    const big = Buffer.alloc(10 * 1024 * 1024)
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i)
    await sbx.files.write('/tmp/big.bin', big)
    const back = Buffer.from(await sbx.files.read('/tmp/big.bin', { format: 'bytes' }))
    assert.equal(back.length, big.length)
    assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(big).digest('hex'))
    assert.equal((await sbx.commands.run('sha256sum /tmp/big.bin | cut -c1-64')).stdout.trim(),
      createHash('sha256').update(big).digest('hex'), 'init wrote the bytes sent')

    const many = await sbx.files.write([
      { path: 'multi/one.txt', data: 'one' },
      { path: '/tmp/multi/two.bin', data: new Uint8Array([0, 1, 2, 255]) },
    ])
    assert.deepEqual(many.map((e) => e.path), ['/home/user/multi/one.txt', '/tmp/multi/two.bin'])
    assert.deepEqual([...(await sbx.files.read('/tmp/multi/two.bin', { format: 'bytes' }))], [0, 1, 2, 255])

    assert.equal(await sbx.files.exists('notes/a.txt'), true)
    assert.equal(await sbx.files.exists('notes/none.txt'), false)
    assert.equal(await sbx.files.makeDir('deep/er/dir'), true)
    assert.equal(await sbx.files.makeDir('deep/er/dir'), false, 'it exists')
    const moved = await sbx.files.rename('notes/a.txt', 'deep/b.txt')
    assert.equal(moved.path, '/home/user/deep/b.txt')
    const got = await sbx.files.getInfo('deep/b.txt')
    assert.equal(got.type, 'file')
    assert.equal(got.size, 5)
    assert.equal(got.owner, 'user')
    assert.equal(got.permissions, '-rw-r--r--')
    assert.ok(Math.abs(got.modifiedTime.getTime() - Date.now()) < 120000)
    const entries = await sbx.files.list('deep')
    assert.deepEqual(entries.map((e) => [e.name, e.type]).sort(), [['b.txt', 'file'], ['er', 'dir']])
    const twoDeep = await sbx.files.list('deep', { depth: 3 })
    assert.ok(twoDeep.some((e) => e.path === '/home/user/deep/er/dir'), JSON.stringify(twoDeep))
    await sbx.files.remove('deep')
    assert.equal(await sbx.files.exists('deep'), false)
    await assert.rejects(sbx.files.read('deep/b.txt'), FileNotFoundError)
    await assert.rejects(sbx.files.getInfo('deep'), FileNotFoundError)
    await assert.rejects(sbx.files.remove('deep'), FileNotFoundError)
  }))

test('files.watchDir reports creations, writes and removals', () =>
  withSandbox(async (sbx) => {
    await sbx.files.makeDir('watched')
    const events = []
    const seen = new Promise((resolve) => {
      sbx.files.watchDir('watched', (e) => {
        events.push(e)
        if (e.name === 'gone.txt' && e.type === 'remove') resolve()
      }, { timeoutMs: 30000 }).then((w) => { watcher = w })
    })
    let watcher
    // The watch is set up once watchDir resolves; give it a moment via its promise.
    while (!watcher) await new Promise((r) => setTimeout(r, 10))
    await sbx.files.write('watched/new.txt', 'x')
    await sbx.commands.run('touch watched/gone.txt && rm watched/gone.txt')
    await seen
    await watcher.stop()
    assert.ok(events.some((e) => e.name === 'new.txt' && e.type === 'create'), JSON.stringify(events))
    assert.ok(events.some((e) => e.name === 'new.txt' && e.type === 'write'), JSON.stringify(events))
  }))

test('file metadata, watch entries, and user xattrs in the sandbox (envd 0.6.x)', () =>
  withSandbox(async (sbx) => {
    assert.equal(sbx.envdApi?.version ?? '0.6.4', '0.6.4')
    const w = await sbx.files.write('meta.txt', 'm', { metadata: { Owner: 'team-a', stage: 'raw' } })
    assert.deepEqual(w.metadata, { owner: 'team-a', stage: 'raw' })
    assert.deepEqual((await sbx.files.getInfo('meta.txt')).metadata, { owner: 'team-a', stage: 'raw' })
    const listed = (await sbx.files.list('.')).find((e) => e.name === 'meta.txt')
    assert.deepEqual(listed.metadata, { owner: 'team-a', stage: 'raw' })
    assert.equal((await sbx.files.getInfo('.bashrc')).metadata, undefined, 'none: undefined')

    await sbx.files.makeDir('w2')
    const events = []
    let done
    const seen = new Promise((r) => { done = r })
    let wrote
    const written = new Promise((r) => { wrote = r })
    const watcher = await sbx.files.watchDir('w2', (e) => {
      events.push(e)
      if (e.name === 'sub/x.txt' && e.type === 'create') done()
      if (e.name === 'sub/x.txt' && e.type === 'write') wrote()
    }, { includeEntry: true, recursive: true })
    // Made with its directory in one go: reported once sub/ is watched.
    await sbx.files.write('w2/sub/x.txt', 'abc')
    await seen
    const created = events.find((e) => e.name === 'sub/x.txt')
    assert.equal(created.entry?.path, '/home/user/w2/sub/x.txt', JSON.stringify(events))
    assert.equal(created.entry?.type, 'file')
    await sbx.files.write('w2/sub/x.txt', 'abcd')
    await written
    await watcher.stop()
    assert.equal(events.find((e) => e.type === 'write').entry?.size, 4)

    const py = await sbx.commands.run(
      "python3 -c \"import os; os.setxattr('meta.txt', 'user.mine', b'1'); print(os.getxattr('meta.txt', 'user.mine'))\"")
    assert.equal(py.stdout, "b'1'\n")
  }))

// Connect envelopes on the wire: a stream sends keepalives while the
// command is silent, and Connect-Timeout-Ms ends the stream and the command.
async function rawStart(sbx, cmd, headers) {
  const body = Buffer.from(JSON.stringify({ process: { cmd: '/bin/bash', args: ['-c', cmd] } }))
  const head = Buffer.alloc(5)
  head.writeUInt32BE(body.length, 1)
  const res = await fetch(`${process.env.E2B_SANDBOX_URL}/process.Process/Start`, {
    method: 'POST',
    headers: {
      'content-type': 'application/connect+json', 'connect-protocol-version': '1',
      'e2b-sandbox-id': sbx.sandboxId, 'x-access-token': sbx.envdAccessToken,
      ...headers,
    },
    body: Buffer.concat([head, body]),
  })
  assert.equal(res.status, 200)
  const bytes = Buffer.from(await res.arrayBuffer())
  const messages = []
  for (let pos = 0; pos < bytes.length;) {
    const flags = bytes[pos]
    const len = bytes.readUInt32BE(pos + 1)
    messages.push({ flags, json: JSON.parse(bytes.subarray(pos + 5, pos + 5 + len).toString()) })
    pos += 5 + len
  }
  return messages
}

test('streams: keepalives in silence, Connect-Timeout-Ms ends the command', () =>
  withSandbox(async (sbx) => {
    const quiet = await rawStart(sbx, 'sleep 2.5; echo done', { 'keepalive-ping-interval': '1' })
    const kinds = quiet.map((m) => m.flags === 2 ? 'end-stream' : Object.keys(m.json.event)[0])
    assert.equal(kinds[0], 'start')
    assert.ok(kinds.filter((k) => k === 'keepalive').length >= 2, kinds.join(' '))
    assert.deepEqual(kinds.slice(-2), ['end', 'end-stream'])
    assert.deepEqual(quiet.at(-1).json, {}, 'a successful stream ends with {}')

    const t0 = Date.now()
    const cut = await rawStart(sbx, 'sleep 30', { 'connect-timeout-ms': '500' })
    assert.ok(Date.now() - t0 < 5000)
    assert.equal(cut.at(-1).flags, 2)
    assert.equal(cut.at(-1).json.error?.code, 'deadline_exceeded', JSON.stringify(cut))
    const pid = cut[0].json.event.start.pid
    await waitFor(async () => !(await sbx.commands.list()).some((p) => p.pid === pid), 'the command to be killed')
  }))

async function waitFor(fn, what, ms = 10000) {
  const end = Date.now() + ms
  while (!(await fn())) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('the envd token is required', async () => {
  const sbx = await Sandbox.create('base', opts)
  try {
    const res = await fetch(`${process.env.E2B_SANDBOX_URL}/filesystem.Filesystem/Stat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'e2b-sandbox-id': sbx.sandboxId, 'x-access-token': 'wrong' },
      body: JSON.stringify({ path: '/' }),
    })
    assert.equal(res.status, 401)
    const stranger = await Sandbox.connect(sbx.sandboxId, opts)
    assert.equal((await stranger.commands.run('echo ok')).stdout, 'ok\n', 'connect hands out the token')
  } finally {
    await sbx.kill()
  }
  await assert.rejects(sbx.commands.run('true'), (e) => e.name === 'SandboxNotFoundError' || e.name === 'TimeoutError')
})

test('a sandbox past its timeout is gone', async () => {
  const sbx = await Sandbox.create('base', { ...opts, timeoutMs: 2000 })
  assert.equal(await sbx.isRunning(), true)
  const deadline = Date.now() + 10000
  while (await sbx.isRunning()) {
    assert.ok(Date.now() < deadline, 'still running 10 s after a 2 s timeout')
    await new Promise((r) => setTimeout(r, 100))
  }
  assert.equal(await Sandbox.kill(sbx.sandboxId, opts), false)
})

test('50 sandboxes at once, each running commands and writing files', async () => {
  const sandboxes = await Promise.all(Array.from({ length: 50 }, () => Sandbox.create('base', { ...opts, timeoutMs: 120000 })))
  try {
    await Promise.all(sandboxes.map(async (sbx, i) => {
      await sbx.files.write(`/tmp/n${i}.txt`, `sandbox ${i}`)
      const [a, b] = await Promise.all([
        sbx.commands.run(`cat /tmp/n${i}.txt; echo; hostname`),
        sbx.commands.run('echo $E2B_SANDBOX_ID'),
      ])
      assert.equal(a.stdout.split('\n')[0], `sandbox ${i}`)
      assert.equal(b.stdout.trim(), sbx.sandboxId)
      assert.equal(await sbx.files.read(`/tmp/n${i}.txt`), `sandbox ${i}`)
    }))
    // Every sandbox has its own filesystem.
    assert.equal(await sandboxes[0].files.exists('/tmp/n1.txt'), false)
  } finally {
    await Promise.all(sandboxes.map((s) => s.kill()))
  }
})
