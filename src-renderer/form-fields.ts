import { h, uniqueId } from './dom.ts';

/** Form rows shared by the sections: a label, the input, a hint and an error line, tied together for screen readers. */

export interface Field {
  input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
  error: HTMLElement;
  row: HTMLElement;
}

export function field(label: string, input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): Field {
  const id = input.id || uniqueId('f');
  input.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' });
  const hintEl = hint ? h('p', { class: 'field-hint', id: `${id}-hint` }, hint) : null;
  input.setAttribute('aria-describedby', [hintEl ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '));
  const row = h('div', { class: 'field' }, h('label', { for: id }, label), input, hintEl, error);
  return { input, error, row };
}

/** A checkbox with its label beside it (and a hint under both), as one form row. */
export function checkboxField(label: string, name: string, hint?: string): Field {
  const input = h('input', { type: 'checkbox', name });
  const id = uniqueId('f');
  input.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' });
  const hintEl = hint ? h('p', { class: 'field-hint', id: `${id}-hint` }, hint) : null;
  input.setAttribute('aria-describedby', [hintEl ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '));
  const row = h('div', { class: 'field field-check' }, h('div', { class: 'check-line' }, input, h('label', { for: id }, label)), hintEl, error);
  return { input, error, row };
}

export const textInput = (name: string, attrs: Record<string, string> = {}) => h('input', { type: 'text', name, autocomplete: 'off', spellcheck: 'false', ...attrs });

export const numberInput = (name: string, min: number, max: number) => h('input', { type: 'number', name, min: String(min), max: String(max), step: '1' });
