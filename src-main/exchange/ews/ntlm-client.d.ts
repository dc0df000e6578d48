// Typings for the parts of @ewsjs/ntlm-client the EWS transport uses (the package ships none). It is CommonJS whose
// exports Node cannot list statically, so it is imported as a default export.
declare module '@ewsjs/ntlm-client' {
  export interface NtlmType2Message {
    flags: number;
    encoding: string;
    version: number;
    challenge: Buffer;
    targetName: string;
    targetInfo?: unknown;
  }
  interface NtlmClient {
    createType1Message(workstation?: string, target?: string): string;
    decodeType2Message(wwwAuthenticate: string): NtlmType2Message;
    createType3Message(type2: NtlmType2Message, username: string, password: string, workstation?: string, target?: string): string;
  }
  const client: NtlmClient;
  export default client;
}
