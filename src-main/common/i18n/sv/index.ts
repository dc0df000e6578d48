import { cli } from './cli.ts';
import { app } from './app.ts';
import { audit } from './audit.ts';
import { checks } from './checks.ts';
import { engine } from './engine.ts';
import { report } from './report.ts';
import { forms } from './window-forms.ts';
import { window } from './window.ts';

/** Every sentence in Swedish, by area. */
export const sv = { window, forms, app, report, checks, cli, engine, audit };
