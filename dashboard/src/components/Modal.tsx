import type { ComponentChildren } from 'preact';

/** A plain modal: the rest of the page stays visible behind it, and STOP ALL stays reachable above it. */
export function Modal({
  title,
  children,
  wide = false,
}: {
  title: string;
  children: ComponentChildren;
  wide?: boolean;
}) {
  return (
    <div class="modal-backdrop">
      <div class={`modal ${wide ? 'modal-wide' : ''}`} role="dialog" aria-modal="true" aria-label={title}>
        <h2>{title}</h2>
        {children}
      </div>
    </div>
  );
}
