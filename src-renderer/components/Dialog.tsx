import { useEffect, useRef, type ReactNode } from 'react';

interface DialogProps {
  title: string;
  children: ReactNode;
  onClose: () => void;
  footer: ReactNode;
  tone?: 'normal' | 'danger';
}

/** A modal on the native <dialog> element: focus trapping and Escape come with it. */
export function Dialog({ title, children, onClose, footer, tone = 'normal' }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog ref={ref} className={`dialog dialog-${tone}`} onCancel={(e) => (e.preventDefault(), onClose())} aria-label={title}>
      <h2>{title}</h2>
      <div className="dialog-body">{children}</div>
      <div className="dialog-footer">{footer}</div>
    </dialog>
  );
}
