import { describe, expect, it } from 'vitest';
import { bypasses, describeRoute, environmentResolver, manualResolver, pacResolver, parseProxyUrl, routesFromPacResult } from '../../src-main/net/proxy-routes.ts';

const u = (s: string) => new URL(s);

describe('PAC answers (what session.resolveProxy returns)', () => {
  it('keeps PROXY and HTTPS entries and DIRECT in order, skips SOCKS', () => {
    const routes = routesFromPacResult('PROXY proxy.corp:8080; SOCKS5 socks.corp:1080; HTTPS secure.corp:443; DIRECT');
    expect(routes.map((r) => (r.kind === 'direct' ? 'DIRECT' : r.proxy.href))).toEqual(['http://proxy.corp:8080/', 'https://secure.corp/', 'DIRECT']);
  });

  it('DIRECT, an empty answer and SOCKS only are all direct', () => {
    for (const answer of ['DIRECT', '', 'SOCKS5 s:1080']) expect(routesFromPacResult(answer)).toEqual([{ kind: 'direct' }]);
  });

  it('a resolver whose system call fails goes direct', async () => {
    const resolver = pacResolver(async () => {
      throw new Error('PAC script unreachable');
    });
    expect(await resolver(u('https://api.severa.visma.com/'))).toEqual([{ kind: 'direct' }]);
  });

  it('asks the system per URL', async () => {
    const asked: string[] = [];
    const resolver = pacResolver(async (url) => (asked.push(url), url.includes('severa') ? 'PROXY p:3128' : 'DIRECT'));
    expect((await resolver(u('https://api.severa.visma.com/x')))[0]).toMatchObject({ kind: 'proxy', source: 'the system proxy settings' });
    expect((await resolver(u('https://mail.contoso.example/EWS/Exchange.asmx')))[0]).toEqual({ kind: 'direct' });
    expect(asked).toEqual(['https://api.severa.visma.com/x', 'https://mail.contoso.example/EWS/Exchange.asmx']);
  });
});

describe('the environment (command line)', () => {
  it('HTTPS_PROXY for https, HTTP_PROXY for http, ALL_PROXY as the fallback; lower case wins', async () => {
    const env = { HTTPS_PROXY: 'http://upper:1', https_proxy: 'lower:2', HTTP_PROXY: 'http://plain:3', ALL_PROXY: 'http://all:4' };
    const resolve = environmentResolver(env);
    expect(await resolve(u('https://a.example/'))).toEqual([{ kind: 'proxy', proxy: u('http://lower:2'), source: 'https_proxy' }]);
    expect(await resolve(u('http://a.example/'))).toEqual([{ kind: 'proxy', proxy: u('http://plain:3'), source: 'HTTP_PROXY' }]);
    expect(await environmentResolver({ ALL_PROXY: 'http://all:4' })(u('https://a.example/'))).toMatchObject([{ source: 'ALL_PROXY' }]);
    expect(await environmentResolver({})(u('https://a.example/'))).toEqual([{ kind: 'direct' }]);
  });

  it('NO_PROXY: names, .domains, *.domains, subdomains, ports, IP ranges, and *', () => {
    const list = 'localhost, .internal.example,*.corp.example, contoso.example, mail.other.example:8443, 10.0.0.0/8, [::1]';
    expect(bypasses(list, u('http://localhost:3000/'))).toBe(true);
    expect(bypasses(list, u('https://ews.internal.example/'))).toBe(true);
    expect(bypasses(list, u('https://a.corp.example/'))).toBe(true);
    expect(bypasses(list, u('https://mail.contoso.example/'))).toBe(true);
    expect(bypasses(list, u('https://contoso.example/'))).toBe(true);
    expect(bypasses(list, u('https://notcontoso.example/'))).toBe(false);
    expect(bypasses(list, u('https://mail.other.example:8443/'))).toBe(true);
    expect(bypasses(list, u('https://mail.other.example/'))).toBe(false);
    expect(bypasses(list, u('https://10.1.2.3/'))).toBe(true);
    expect(bypasses(list, u('https://11.1.2.3/'))).toBe(false);
    expect(bypasses(list, u('http://[::1]:8080/'))).toBe(true);
    expect(bypasses('*', u('https://anything.example/'))).toBe(true);
    expect(bypasses('', u('https://anything.example/'))).toBe(false);
  });

  it('NO_PROXY sends a host direct even with HTTPS_PROXY set', async () => {
    const resolve = environmentResolver({ HTTPS_PROXY: 'http://p:1', NO_PROXY: 'severa.example' });
    expect(await resolve(u('https://api.severa.example/'))).toEqual([{ kind: 'direct' }]);
    expect((await resolve(u('https://mail.example/')))[0].kind).toBe('proxy');
  });
});

describe('a proxy typed into the settings', () => {
  it('uses the proxy except for the bypass list', async () => {
    const resolve = manualResolver('proxy.corp:8080', 'mail.contoso.example');
    expect(await resolve(u('https://api.severa.visma.com/'))).toEqual([{ kind: 'proxy', proxy: u('http://proxy.corp:8080'), source: 'the app settings' }]);
    expect(await resolve(u('https://mail.contoso.example/'))).toEqual([{ kind: 'direct' }]);
  });

  it('reads proxy addresses with and without a scheme, and refuses others', () => {
    expect(parseProxyUrl('proxy:3128')?.href).toBe('http://proxy:3128/');
    expect(parseProxyUrl('https://proxy.corp')?.href).toBe('https://proxy.corp/');
    expect(parseProxyUrl('socks5://s:1080')).toBeNull();
    expect(parseProxyUrl('')).toBeNull();
  });

  it('describes a route in words', () => {
    expect(describeRoute({ kind: 'direct' })).toBe('direct');
    expect(describeRoute({ kind: 'proxy', proxy: u('http://proxy.corp:8080'), source: 'HTTPS_PROXY' })).toBe('through the proxy proxy.corp:8080 (HTTPS_PROXY)');
  });
});
