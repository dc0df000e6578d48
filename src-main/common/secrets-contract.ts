/**
 * The secrets the product needs, by name. They live only in the OS keychain (keytar) on a desktop, or in environment
 * variables on a headless server; never in settings, logs, reports or anything the renderer receives.
 */
export const SECRET_NAMES = ['exchange-delegate-password', 'severa-client-secret', 'graph-client-secret', 'graph-certificate-key'] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

/** Environment variables the headless CLI reads when the keychain has no value. */
export const SECRET_ENV_VARS: Record<SecretName, string> = {
  'exchange-delegate-password': 'SCS_EXCHANGE_PASSWORD',
  'severa-client-secret': 'SCS_SEVERA_CLIENT_SECRET',
  'graph-client-secret': 'SCS_GRAPH_CLIENT_SECRET',
  /** The private key (PEM) of the Entra app's certificate. */
  'graph-certificate-key': 'SCS_GRAPH_CERTIFICATE_KEY',
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
