export interface SandboxEnv {
  STATE: DurableObjectNamespace;
  MAIN_API_KEY: string;
}

/** Prices charged per message, in integer cents, by channel. */
export const DEFAULT_PRICES: Record<string, number> = {
  sms: 1,
  sms_oneway: 1,
  whatsapp: 2,
  telegram: 0,
  email: 1,
  instagram: 0,
  messenger: 0,
  voice: 5,
  // Not a channel: a phone number's price, charged at purchase (POST /v1/phone-numbers).
  phone_number: 100,
};

export const DEFAULT_TEAM_BALANCE = 1_000_000; // $10,000.00
