// Finds the price-table key for what a provider reported: its model name (often
// a dated snapshot), its provider (LiteLLM key prefix) and, on Azure, the deployment.

/** Which call to price: the fields of the usage event that name the model. */
export interface ModelRef {
  /** `openai`, `azure_openai`, `gemini`, or null/other when unknown (then every prefix is tried). */
  provider: string | null;
  /** The model the provider reported, e.g. `gpt-4o-mini-2024-07-18` or `models/gemini-2.5-flash-001`. */
  model: string;
  /** Azure deployment that served the call, when known. */
  deployment?: string | null;
}

/** LiteLLM key prefix per provider; OpenAI keys are bare. */
const PREFIX_BY_PROVIDER: Record<string, string> = { openai: "", azure_openai: "azure/", gemini: "gemini/" };
const KNOWN_PREFIXES = ["azure/", "gemini/", "openai/"];

/**
 * Snapshot suffixes stripped, one at a time, when the exact name is not in the
 * table: `-2024-07-18`, `-20240718`, `-0613`, Gemini's `-001`.
 */
const SNAPSHOT_SUFFIXES = [/-\d{4}-\d{2}-\d{2}$/, /-\d{8}$/, /-\d{4}$/, /-\d{3}$/];

/** The name without provider-side decoration: Gemini's `models/` prefix, surrounding spaces, case. */
function normalize(name: string): string {
  return name.trim().toLowerCase().replace(/^models\//, "");
}

/** The name, then the name with one snapshot suffix stripped (first that matches). */
function nameVariants(name: string): string[] {
  const variants = [name];
  for (const suffix of SNAPSHOT_SUFFIXES) {
    if (suffix.test(name)) {
      variants.push(name.replace(suffix, ""));
      break;
    }
  }
  return variants;
}

/** Splits a prefixed name (`azure/gpt-4o`) into its LiteLLM prefix and the bare name. */
function splitPrefix(name: string): { prefix: string | undefined; bare: string } {
  const prefix = KNOWN_PREFIXES.find((p) => name.startsWith(p));
  if (!prefix) return { prefix: undefined, bare: name };
  // `openai/` is how gateways spell OpenAI models; LiteLLM keys them bare.
  return { prefix: prefix === "openai/" ? "" : prefix, bare: name.slice(prefix.length) };
}

/**
 * Resolves a call to a key of `keys` (lower-cased LiteLLM keys), or null when
 * nothing matches. Order: the Azure deployment's mapped model, then the
 * reported model, then (Azure) the deployment name itself; for each, the exact
 * name before the snapshot-stripped one. Azure never falls back to OpenAI's
 * prices: Azure bills some models differently, so an Azure model missing from
 * the table is unpriced.
 */
export function resolvePriceKey(ref: ModelRef, keys: ReadonlySet<string>, azureDeployments: Readonly<Record<string, string>> = {}): string | null {
  const names: string[] = [];
  const deployment = ref.deployment?.trim();
  if (deployment) {
    const mapped = azureDeployments[deployment];
    if (mapped) names.push(mapped);
  }
  names.push(ref.model);
  if (deployment) names.push(deployment);

  const providerPrefix = ref.provider === null ? undefined : PREFIX_BY_PROVIDER[ref.provider];
  for (const raw of names) {
    const { prefix, bare } = splitPrefix(normalize(raw));
    // An explicit prefix in the name wins; otherwise the provider's; unknown provider tries all.
    const prefixes = prefix !== undefined ? [prefix] : providerPrefix !== undefined ? [providerPrefix] : ["", "gemini/", "azure/"];
    for (const variant of nameVariants(bare)) {
      for (const p of prefixes) {
        const key = `${p}${variant}`;
        if (keys.has(key)) return key;
      }
    }
  }
  return null;
}
