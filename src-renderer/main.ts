import type { PreferencesView, RunnerStatusView } from '../src-main/common/ipc-contract.ts';
import { setLanguage, t } from '../src-main/common/i18n/i18n.ts';
import { renderAdminSection } from './admin-section.ts';
import { clear, h, problemBox } from './dom.ts';
import { renderPersonalSection } from './personal-section.ts';
import { renderStatusSection, stateClass, stateLabel } from './status-section.ts';

type Section = 'admin' | 'personal' | 'status';
const SECTIONS: Section[] = ['admin', 'personal', 'status'];

const api = window.severaSync;
const pill = document.getElementById('state-pill')!;

/** The frame's words (index.html holds none): the language is the one the main process chose. */
function labelFrame(): void {
  pill.textContent = t('window.app.starting');
  document.querySelector('nav.tabs')!.setAttribute('aria-label', t('window.app.sections'));
  for (const s of SECTIONS) document.getElementById(`tab-${s}`)!.textContent = t(`window.app.tabs.${s}`);
}

async function start(): Promise<void> {
  if (!api) {
    labelFrame();
    clear(document.querySelector('main')!, problemBox(t('window.app.noApp'), t('window.app.noAppFix')));
    return;
  }
  // The window speaks the main process's language (the OS's, or the person's choice under My sync > This computer).
  let prefs: PreferencesView | null = null;
  try {
    prefs = await api.invoke('preferences:get');
  } catch {
    prefs = null;
  }
  if (prefs) setLanguage(prefs.activeLanguage);
  document.documentElement.lang = prefs?.activeLanguage ?? 'en';
  labelFrame();

  // Set below, once the tabs exist; the sections' buttons ("Go to My sync") go through it.
  let go: (section: Section) => void = () => {};
  const admin = renderAdminSection(document.getElementById('panel-admin')!, api, (section) => go(section));
  const status = renderStatusSection(
    document.getElementById('panel-status')!,
    api,
    (runner: RunnerStatusView) => {
      pill.className = `state-pill pill-${stateClass(runner)}`;
      clear(pill, h('span', { class: 'pill-dot', 'aria-hidden': 'true' }), stateLabel(runner));
    },
    (section) => go(section),
  );
  // A new language is the whole window's: it loads again in it, on the same section.
  const personal = renderPersonalSection(document.getElementById('panel-personal')!, api, () => void status.refresh(), () => location.reload());
  const refreshers: Record<Section, () => Promise<void>> = { admin: admin.refresh, personal: personal.refresh, status: status.refresh };

  const tabs = SECTIONS.map((s) => document.getElementById(`tab-${s}`) as HTMLButtonElement);
  const select = (section: Section, focus = false) => {
    for (const s of SECTIONS) {
      const tab = document.getElementById(`tab-${s}`)!;
      const selected = s === section;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      document.getElementById(`panel-${s}`)!.hidden = !selected;
      if (selected && focus) tab.focus();
    }
    if (location.hash !== `#${section}`) history.replaceState(null, '', `#${section}`);
    void refreshers[section]();
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => select(SECTIONS[i]));
    // Arrow keys move between tabs (WAI-ARIA tabs pattern); Tab moves into the panel.
    tab.addEventListener('keydown', (event) => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (event.key === 'Home') select(SECTIONS[0], true);
      else if (event.key === 'End') select(SECTIONS[SECTIONS.length - 1], true);
      else if (step) select(SECTIONS[(i + step + SECTIONS.length) % SECTIONS.length], true);
      else return;
      event.preventDefault();
    });
  });
  go = (section) => select(section, true);
  api.on('navigate', ({ section }) => select(section));

  const fromHash = location.hash.slice(1) as Section;
  select(SECTIONS.includes(fromHash) ? fromHash : 'status');
  // The header pill is current from the start, whichever section opens first.
  if (fromHash !== 'status') void status.refresh();
}

void start();
