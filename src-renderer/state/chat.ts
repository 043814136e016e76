import { create } from 'zustand';
import type { ChatAnswer, Citation } from '../../src-shared/contract.js';
import { call, messageOf, stream, type RunningStream } from '../client.js';
import { onTenantReset } from './reset.js';
import { stillCurrent, useSession } from './session.js';

export interface ChatMessage {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  citations: Citation[];
  mode: ChatAnswer['mode'] | null;
  state: 'streaming' | 'done' | 'stopped' | 'failed';
  error: string | null;
  note: string | null;
  /** Which model wrote a generated answer. */
  model: string | null;
}

export interface PendingWrite {
  confirmId: string;
  tool: string;
  title: string;
  body: string;
}

interface ChatState {
  messages: ChatMessage[];
  /** A write the model asked for, waiting for the user's yes or no. */
  pendingWrite: PendingWrite | null;
  conversationId: number | null;
  streaming: boolean;
}

const initial = (): ChatState => ({ messages: [], pendingWrite: null, conversationId: null, streaming: false });
export const useChat = create<ChatState>()(initial);

let current: RunningStream<ChatAnswer> | null = null;
onTenantReset(() => {
  current?.stop();
  current = null;
  useChat.setState(initial());
});

function patch(id: string, change: Partial<ChatMessage>): void {
  useChat.setState((s) => ({ messages: s.messages.map((m) => (m.id === id ? { ...m, ...change } : m)) }));
}

export async function ask(question: string): Promise<void> {
  if (useChat.getState().streaming) return;
  const generation = useSession.getState().generation;
  const answerId = crypto.randomUUID();
  useChat.setState((s) => ({
    streaming: true,
    messages: [
      ...s.messages,
      { id: crypto.randomUUID(), role: 'user', text: question, citations: [], mode: null, state: 'done', error: null, note: null, model: null },
      { id: answerId, role: 'assistant', text: '', citations: [], mode: null, state: 'streaming', error: null, note: null, model: null },
    ],
  }));
  let text = '';
  current = stream('chat.ask', { question, conversationId: useChat.getState().conversationId }, (e) => {
    // A token for the previous client never lands under the next one.
    if (!stillCurrent(generation)) return;
    if (e.type === 'confirm') {
      useChat.setState({ pendingWrite: { confirmId: e.confirmId, tool: e.tool, title: e.title, body: e.body } });
      return;
    }
    if (e.type === 'token') text += e.text;
    else text = '';
    patch(answerId, { text });
  });
  try {
    const answer = await current.result;
    if (!stillCurrent(generation)) return;
    patch(answerId, {
      text: answer.text,
      citations: answer.citations,
      mode: answer.mode,
      state: 'done',
      note: answer.modelError,
      model: answer.model ? `${answer.model.name} at ${answer.model.host}` : null,
    });
    useChat.setState({ conversationId: answer.conversationId });
  } catch (err) {
    if (!stillCurrent(generation)) return;
    const stopped = err instanceof Error && 'code' in err && err.code === 'CANCELLED';
    patch(answerId, { state: stopped ? 'stopped' : 'failed', error: stopped ? null : messageOf(err), text: stopped ? text : '' });
  } finally {
    if (stillCurrent(generation)) useChat.setState({ streaming: false, pendingWrite: null });
    current = null;
  }
}

export async function answerWrite(allow: boolean): Promise<void> {
  const pending = useChat.getState().pendingWrite;
  if (!pending) return;
  useChat.setState({ pendingWrite: null });
  await call('chat.confirm', { confirmId: pending.confirmId, allow });
}

export function stopAnswer(): void {
  current?.stop();
}

export function newConversation(): void {
  if (!useChat.getState().streaming) useChat.setState(initial());
}
