// GET requests to the dashboard's JSON API (same origin: the cookie goes along).

/** A non-2xx answer: `status`, and the API's JSON body when it sent one. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** The JSON of `path` with `params` as its query (undefined values left out). */
export async function getJson(path, params, signal) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, String(value));
  const response = await fetch(`${path}?${query}`, { headers: { Accept: "application/json" }, credentials: "same-origin", signal });
  if (!response.ok) {
    let body;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    throw new ApiError(response.status, body);
  }
  return response.json();
}
