// The one usage shape every provider's response is converted to, and every
// event, row and error carries.

/**
 * Token usage of one call, the same numbers for every provider.
 * `cached_tokens` is the part of `prompt_tokens` served from cache and
 * `reasoning_tokens` the part of `completion_tokens` spent thinking.
 */
export interface Usage {
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
}
