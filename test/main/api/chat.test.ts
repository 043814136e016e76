import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { invokeCall, invokeStream } from '../../../src-main/api/dispatch.js';
import { ConsoleSession } from '../../../src-main/api/session.js';
import { listNotes } from '../../../src-main/agent/notes.js';
import { startModelServer, type ModelServer } from '../../e2e/model-server.js';
import { TEST_KDF, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

let s: ConsoleSession;
let model: ModelServer;
let tenantId: string;

beforeEach(async () => {
  model = await startModelServer();
  s = new ConsoleSession({ dataDir: tempDir(), kdf: TEST_KDF });
  await invokeCall(s, 'vault.initialize', { passphrase: TEST_PASSPHRASE });
  tenantId = ((await invokeCall(s, 'tenants.create', { name: 'Chat Co' })) as { value: { id: string } }).value.id;
  await invokeCall(s, 'tenants.open', { tenantId });
  const saved = await invokeCall(s, 'settings.setModel', { model: { baseUrl: model.baseUrl, name: 'loopback-model', localOnly: true } });
  expect(saved).toMatchObject({ ok: true, value: { model: { name: 'loopback-model', localOnly: true } } });
});
afterEach(async () => {
  s.dispose();
  await model.close();
});

function ask(question: string, onEvent: (e: { type: string; confirmId?: string }) => void, signal = new AbortController().signal) {
  return invokeStream(s, 'chat.ask', { question }, (e) => onEvent(e as { type: string }), signal);
}

describe('chat through the api', () => {
  it('streams tokens and answers with the model it used', async () => {
    model.answer('Nothing is known yet.');
    const tokens: string[] = [];
    const r = await ask('Hello?', (e) => e.type === 'token' && tokens.push((e as unknown as { text: string }).text));
    expect(r).toMatchObject({ ok: true, value: { mode: 'generated', text: 'Nothing is known yet.', model: { name: 'loopback-model' } } });
    expect(tokens.join('')).toBe('Nothing is known yet.');
  });

  it('a note the model wants to save waits for the user: no writes without yes', async () => {
    for (const allow of [false, true]) {
      model.callTool('save_note', { title: `Note ${allow}`, body: 'Remember the March renewal.' });
      model.answer('Done.');
      const r = await ask('Save a note', (e) => {
        if (e.type === 'confirm') void invokeCall(s, 'chat.confirm', { confirmId: e.confirmId!, allow });
      });
      expect(r.ok).toBe(true);
      expect(listNotes(s.current!).map((n) => n.title)).toEqual(allow ? ['Note true'] : []);
    }
  });

  it('a switch while the model is asking to write answers no and cancels the answer', async () => {
    const other = ((await invokeCall(s, 'tenants.create', { name: 'Other Co' })) as { value: { id: string } }).value.id;
    model.callTool('save_note', { title: 'Late note', body: 'x' });
    model.answer('Done.');
    const r = await ask('Save a note', (e) => {
      if (e.type === 'confirm') void invokeCall(s, 'tenants.open', { tenantId: other });
    });
    expect(r).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
    await invokeCall(s, 'tenants.open', { tenantId });
    expect(listNotes(s.current!)).toEqual([]);
  });
});
