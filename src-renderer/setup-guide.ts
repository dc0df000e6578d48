import type { SetupView } from '../src-main/common/ipc-contract.ts';
import { clear, h } from './dom.ts';

/**
 * The first-run guide: what to fill in, then Test connection, then turning on one's own sync, each step marked done,
 * current or still to come. Shown until the steps are done; nothing about it is an error.
 */

type Step = 'settings' | 'test' | 'enable';

// Every sentence of the guide, in one place.
const TEXT = {
  heading: 'Welcome: three steps to the first sync',
  lead: 'Nothing syncs until these are done, and nothing is wrong meanwhile.',
  done: 'Done',
  current: 'Next',
  todo: 'Later',
  failed: 'Failed: see the fixes below',
  steps: {
    settings: {
      title: 'Fill in the Exchange and Severa settings, then save',
      body: 'From your Exchange admin: for on-premises Exchange, the EWS address and a service account that may act for the mailboxes (ApplicationImpersonation); for Exchange Online, the tenant and an app registered in Microsoft Entra ID (the steps are shown there). From Severa (Settings > REST API): an API client id and secret. A proxy or your own certificate authority go under Network.',
    },
    test: {
      title: 'Test connection',
      body: 'Checks the saved settings with both servers, one step after another, and says how to fix what fails.',
    },
    enable: {
      title: 'Turn on your own sync',
      body: 'Under My sync, with your email, proving the mailbox is yours: its password on-premises, or a Microsoft sign-in on Exchange Online (checked once, nothing kept). Colleagues do the same on their computers.',
    },
  } satisfies Record<Step, { title: string; body: string }>,
  goTest: 'Test connection',
  goEnable: 'Go to My sync',
};

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
    const label = { done: TEXT.done, current: TEXT.current, todo: TEXT.todo, failed: TEXT.failed };
    const action = (step: Step) => {
      if (step === 'test' && actions.test && (state.test === 'current' || state.test === 'failed')) {
        const button = h('button', { type: 'button', class: 'primary', 'data-setup-action': 'test' }, TEXT.goTest);
        button.addEventListener('click', () => actions.test!());
        return button;
      }
      if (step === 'enable' && state.enable === 'current') {
        const button = h('button', { type: 'button', class: 'primary', 'data-setup-action': 'enable' }, TEXT.goEnable);
        button.addEventListener('click', () => actions.enable());
        return button;
      }
      return null;
    };
    clear(
      element,
      h('h3', { id: 'setup-heading' }, TEXT.heading),
      h('p', { class: 'muted' }, TEXT.lead),
      h(
        'ol',
        { class: 'setup-steps' },
        (['settings', 'test', 'enable'] as Step[]).map((step) =>
          h(
            'li',
            { class: `setup-step step-${state[step]}`, 'data-step': step, ...(state[step] === 'current' ? { 'aria-current': 'step' } : {}) },
            h('span', { class: 'step-state' }, label[state[step]]),
            h('div', { class: 'step-body' }, h('p', { class: 'step-title' }, TEXT.steps[step].title), h('p', { class: 'step-text' }, TEXT.steps[step].body), action(step)),
          ),
        ),
      ),
    );
  };
  return { element, show };
}
