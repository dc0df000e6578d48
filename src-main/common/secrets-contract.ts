/**
 * The secrets the product needs, by name. They live only in the OS keychain (keytar) on a desktop, or in environment
 * variables on a headless server; never in settings, logs, reports or anything the renderer receives.
 */
export const SECRET_NAMES = ['exchange-delegate-password', 'severa-client-secret', 'graph-client-secret', 'graph-certificate-key', 'proxy-password'] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

/** Environment variables the headless CLI reads when the keychain has no value. */
export const SECRET_ENV_VARS: Record<SecretName, string> = {
  'exchange-delegate-password': 'SCS_EXCHANGE_PASSWORD',
  'severa-client-secret': 'SCS_SEVERA_CLIENT_SECRET',
  'graph-client-secret': 'SCS_GRAPH_CLIENT_SECRET',
  /** The private key (PEM) of the Entra app's certificate. */
  'graph-certificate-key': 'SCS_GRAPH_CERTIFICATE_KEY',
  /** The proxy login's password (the settings name the proxy and its user). */
  'proxy-password': 'SCS_PROXY_PASSWORD',
};

/**
 * Where each secret is entered in the settings window (section, then field, as the window labels them), so every
 * message about a missing or refused secret names the field to fill.
 */
export const SECRET_FIELDS: Record<SecretName, string> = {
  'exchange-delegate-password': 'Admin > Microsoft Exchange > Delegate password',
  'severa-client-secret': 'Admin > Visma Severa > Severa API client secret',
  'graph-client-secret': 'Admin > Microsoft Exchange > Client secret',
  'graph-certificate-key': "Admin > Microsoft Exchange > Certificate's private key",
  'proxy-password': 'Admin > Network > Proxy password',
};

/** Read side, for the runner. */
export interface SecretSource {
  get(name: SecretName): Promise<string | null>;
}

/** Write side, for the main process: the renderer can set or replace a secret, never read one. */
export interface SecretSink {
  set(name: SecretName, value: string): Promise<void>;
  delete(name: SecretName): Promise<void>;
  /** Whether a value is stored: all the renderer ever learns. */
  has(name: SecretName): Promise<boolean>;
}
