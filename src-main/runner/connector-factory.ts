import type { ConnectorFactory } from './runner-types.ts';

/** Builds the real Severa client and EWS connector from settings + secrets (wired once those modules land). */
export const defaultConnectorFactory: ConnectorFactory = {
  async createCalendar() {
    throw new Error('The Exchange connector is not available in this build yet.');
  },
  async createSevera() {
    throw new Error('The Severa client is not available in this build yet.');
  },
};
