import type { SetupView } from '../src-main/common/ipc-contract.ts';
import { t } from '../src-main/common/i18n/i18n.ts';
import { clear, h } from './dom.ts';

/**
 * The first-run guide: what to fill in, then Test connection, then turning on one's own sync, each step marked done,
 * current or still to come. Shown until the steps are done; nothing about it is an error.
 */

type Step = 'settings' | 'test' | 'enable';


/** Whether the guide is still needed: settings missing, never tested on them, or nobody syncing. */
export const setupIncomplete = (setup: SetupView) => !setup.settingsSaved || !setup.anyoneEnrolled || (setup.connectionTest !== 'passed' && !setup.synced);

export function createSetupGuide(actions: { test?: () => void; enable: () => void }): { element: HTMLElement; show(setup: SetupView): void } {
  const element = h('section', { class: 'setup-guide card', 'aria-labelledby': 'setup-heading', hidden: true });
  const show = (setup: SetupView) => {
    element.hidden = !setupIncomplete(setup);
    if (element.hidden) return;
    const state: Record<Step, 'done' | 'current' | 'todo' | 'failed'> = {
      settings: setup.settingsSaved ? 'done' : 'current',
      test: !setup.settingsSaved ? 'todo' : setup.connectionTest === 'passed' ? 'done' : setup.connectionTest === 'failed' ? 'failed' : 'current',
      enable: setup.meEnrolled || setup.anyoneEnrolled ? 'done' : setup.settingsSaved && setup.connectionTest === 'passed' ? 'current' : 'todo',
    };
    const label = { done: t('window.setup.done'), current: t('window.setup.current'), todo: t('window.setup.todo'), failed: t('window.setup.failed') };
    const action = (step: Step) => {
      if (step === 'test' && actions.test && (state.test === 'current' || state.test === 'failed')) {
        const button = h('button', { type: 'button', class: 'primary', 'data-setup-action': 'test' }, t('window.setup.goTest'));
        button.addEventListener('click', () => actions.test!());
        return button;
      }
      if (step === 'enable' && state.enable === 'current') {
        const button = h('button', { type: 'button', class: 'primary', 'data-setup-action': 'enable' }, t('window.setup.goEnable'));
        button.addEventListener('click', () => actions.enable());
        return button;
      }
      return null;
    };
    clear(
      element,
      h('h3', { id: 'setup-heading' }, t('window.setup.heading')),
      h('p', { class: 'muted' }, t('window.setup.lead')),
      h(
        'ol',
        { class: 'setup-steps' },
        (['settings', 'test', 'enable'] as Step[]).map((step) =>
          h(
            'li',
            { class: `setup-step step-${state[step]}`, 'data-step': step, ...(state[step] === 'current' ? { 'aria-current': 'step' } : {}) },
            h('span', { class: 'step-state' }, label[state[step]]),
            h('div', { class: 'step-body' }, h('p', { class: 'step-title' }, t(`window.setup.${step}Title`)), h('p', { class: 'step-text' }, t(`window.setup.${step}Body`)), action(step)),
          ),
        ),
      ),
    );
  };
  return { element, show };
}
