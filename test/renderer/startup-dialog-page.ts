import type { StartupDialogModel } from '../../src-main/electron/startup-problems.ts';

/**
 * A start-up dialog's content as a page, for a screenshot in Chromium: the same model main.ts hands to Electron's
 * dialog.showMessageBox (title, message, detail paragraphs, buttons with the first as default), laid out the way a
 * desktop message box shows it. Text is escaped; nothing is interpreted as markup.
 */

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function startupDialogPage(model: StartupDialogModel): string {
  const icon = model.type === 'error' ? '✕' : '!';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(model.title)}</title>
<style>
  body { margin: 0; background: #d9dde3; font: 14px/1.45 system-ui, 'Segoe UI', Roboto, sans-serif; color: #1d2433; }
  .window { width: 560px; margin: 24px; background: #fff; border: 1px solid #b9c0cb; border-radius: 10px; box-shadow: 0 8px 28px rgba(0,0,0,.18); overflow: hidden; }
  .titlebar { padding: 8px 14px; background: #f0f2f5; border-bottom: 1px solid #dde2ea; font-weight: 600; font-size: 13px; color: #3b4454; }
  .content { display: grid; grid-template-columns: 44px 1fr; gap: 14px; padding: 18px 20px 8px; }
  .icon { width: 40px; height: 40px; border-radius: 50%; display: flex; align-items: center; justify-content: center; font-weight: 800; font-size: 20px; color: #fff; background: ${model.type === 'error' ? '#c62828' : '#9a6700'}; }
  .message { font-weight: 700; font-size: 15px; margin: 4px 0 10px; }
  .detail p { margin: 0 0 8px; color: #3b4454; overflow-wrap: anywhere; }
  .buttons { display: flex; justify-content: flex-end; gap: 10px; padding: 10px 20px 16px; }
  button { font: inherit; font-weight: 600; padding: 6px 16px; border-radius: 6px; border: 1px solid #c3cad6; background: #fff; }
  button.default { background: #1f6feb; border-color: #1f6feb; color: #fff; }
</style></head>
<body><div class="window" role="alertdialog" aria-labelledby="m" aria-describedby="d">
  <div class="titlebar">${escape(model.title)}</div>
  <div class="content"><div class="icon" aria-hidden="true">${icon}</div>
    <div><p class="message" id="m">${escape(model.message)}</p>
      <div class="detail" id="d">${model.detail.map((p) => `<p>${escape(p)}</p>`).join('')}</div></div></div>
  <div class="buttons">${model.choices.map((c, i) => `<button class="${i === 0 ? 'default' : ''}">${escape(c.label)}</button>`).join('')}</div>
</div></body></html>`;
}
