import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { Citation } from '../../src-shared/contract.js';
import { Dialog } from '../components/Dialog.js';
import { answerWrite, ask, newConversation, stopAnswer, useChat, type ChatMessage } from '../state/chat.js';
import { openPassage } from '../state/panels.js';

/**
 * Model output as plain text: "[S2]" (or "[S1, S2]") becomes buttons that open the cited
 * passages; nothing else is interpreted (no HTML, no markdown images that could load a URL).
 */
function AnswerText({ text, citations }: { text: string; citations: Citation[] }) {
  const byId = new Map(citations.map((c) => [c.id, c]));
  const parts: ReactNode[] = [];
  let last = 0;
  for (const m of text.matchAll(/\[(S\d{1,4}(?:\s*,\s*S\d{1,4})*)\]/g)) {
    const cited = m[1]!.split(/\s*,\s*/).flatMap((id) => byId.get(id) ?? []);
    if (cited.length === 0) continue;
    parts.push(text.slice(last, m.index));
    for (const c of cited) {
      parts.push(
        <button key={`${m.index}-${c.id}`} className="cite" onClick={() => void openPassage(c.chunkId)} title={c.title} data-testid="citation-inline">
          {c.id}
        </button>,
      );
    }
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return <div className="answer-text">{parts}</div>;
}

function Message({ m }: { m: ChatMessage }) {
  if (m.role === 'user') return <div className="msg msg-user">{m.text}</div>;
  return (
    <div className={`msg msg-assistant msg-${m.state}`} data-testid="answer">
      {m.mode === 'retrieval-only' && <div className="mode-label">Not generated: the most relevant passages{m.note ? ` (${m.note})` : ''}</div>}
      <AnswerText text={m.text} citations={m.citations} />
      {m.state === 'streaming' && <span className="caret" aria-label="answering" />}
      {m.state === 'stopped' && <div className="muted small-print">Stopped.</div>}
      {m.error && <div className="error-text">{m.error}</div>}
      {m.citations.length > 0 && (
        <ol className="citation-list">
          {m.citations.map((c) => (
            <li key={c.id}>
              <button className="citation" onClick={() => void openPassage(c.chunkId)} data-testid="citation">
                <span className="cite">{c.id}</span>
                <span className="citation-title">{c.title}</span>
                {c.page !== null && <span className="muted"> · p. {c.page}</span>}
                <span className="citation-excerpt muted">{c.excerpt}</span>
              </button>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

export function ChatScreen() {
  const { messages, streaming, pendingWrite } = useChat();
  const [draft, setDraft] = useState('');
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => end.current?.scrollIntoView({ block: 'end' }), [messages]);

  function submit(e: FormEvent): void {
    e.preventDefault();
    const q = draft.trim();
    if (!q || streaming) return;
    setDraft('');
    void ask(q);
  }

  return (
    <div className="screen chat">
      <header className="screen-header">
        <div>
          <h1>Ask</h1>
          <p className="muted">Answers come from this client&apos;s documents only, with the passages they rely on.</p>
        </div>
        <button className="button ghost" onClick={newConversation} disabled={streaming || messages.length === 0}>
          New conversation
        </button>
      </header>
      <div className="messages" aria-live="polite">
        {messages.length === 0 && <div className="empty">Ask a question about this client&apos;s documents.</div>}
        {messages.map((m) => (
          <Message key={m.id} m={m} />
        ))}
        <div ref={end} />
      </div>
      {pendingWrite && (
        <Dialog
          title="Save this note?"
          onClose={() => void answerWrite(false)}
          footer={
            <>
              <button className="button ghost" onClick={() => void answerWrite(false)}>
                Don&apos;t save
              </button>
              <button className="button primary" onClick={() => void answerWrite(true)}>
                Save note
              </button>
            </>
          }
        >
          <p className="muted small-print">The assistant wants to save a note in this client&apos;s knowledge. Nothing is written unless you allow it.</p>
          <p>
            <strong>{pendingWrite.title}</strong>
          </p>
          <blockquote className="passage-text">{pendingWrite.body}</blockquote>
        </Dialog>
      )}
      <form className="composer" onSubmit={submit}>
        <textarea
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) submit(e);
          }}
          placeholder="Ask a question…"
          aria-label="Question"
          rows={2}
        />
        {streaming ? (
          <button className="button" type="button" onClick={stopAnswer}>
            Stop
          </button>
        ) : (
          <button className="button primary" type="submit" disabled={!draft.trim()}>
            Ask
          </button>
        )}
      </form>
    </div>
  );
}
