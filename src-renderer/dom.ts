import { t } from '../src-main/common/i18n/i18n.ts';

/** A tiny element builder: text is always set as text (never parsed as HTML), so nothing from a server can inject markup. */

type Attrs = Record<string, string | number | boolean | undefined | null | ((event: Event) => void)>;
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    else if (value === true) el.setAttribute(name, '');
    else if (name === 'value' && 'value' in el) (el as HTMLInputElement).value = String(value);
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function clear(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

let idCounter = 0;
export const uniqueId = (prefix: string) => `${prefix}-${++idCounter}`;

/** A problem box: what is wrong and, on its own line, what to do about it. */
export function problemBox(message: string, fix?: string, kind: 'error' | 'warning' | 'info' = 'error'): HTMLElement {
  return h(
    'div',
    { class: `callout callout-${kind}`, role: kind === 'error' ? 'alert' : 'note' },
    h('p', { class: 'callout-message' }, message),
    fix ? h('p', { class: 'callout-fix' }, h('strong', {}, t('window.common.fix')), fix) : null,
  );
}

export function errorParts(error: unknown): { message: string; fix?: string; issues?: { path: string; message: string }[] } {
  if (error && typeof error === 'object') {
    const e = error as { message?: unknown; fix?: unknown; issues?: unknown };
    return {
      message: typeof e.message === 'string' ? e.message : String(error),
      fix: typeof e.fix === 'string' ? e.fix : undefined,
      issues: Array.isArray(e.issues) ? (e.issues as { path: string; message: string }[]) : undefined,
    };
  }
  return { message: String(error) };
}
