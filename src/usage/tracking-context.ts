// Who a tracked call is for (nodeName, state), carried across awaits by withTracking():
// an AsyncLocalStorage scope over the wrapper's defaults, read once per call.
import { AsyncLocalStorage } from "node:async_hooks";
import type { TrackingState } from "./build-event.js";

/** What a call is tagged with: `metadata.node_name` and the state (`user_id`, `source_*`, `metadata`). */
export interface TrackingContext {
  /** Stored as `metadata.node_name`. */
  nodeName?: string;
  /** `user_id`, `source_type`, `source_task_id`, `source_path`, `metadata`. */
  state?: TrackingState;
}

const storage = new AsyncLocalStorage<TrackingContext>();

/**
 * Layers `inner` over `outer`: `nodeName` and each state key of `inner` win when given,
 * `state.metadata` is merged key by key. Returns `outer` itself when `inner` adds nothing.
 */
export function layerContext(outer: TrackingContext | undefined, inner: TrackingContext | undefined): TrackingContext {
  if (!inner) return outer ?? {};
  if (!outer) return inner;
  const state = layerState(outer.state, inner.state);
  return { nodeName: inner.nodeName ?? outer.nodeName, ...(state === undefined ? {} : { state }) };
}

function layerState(outer: TrackingState | undefined, inner: TrackingState | undefined): TrackingState | undefined {
  if (!inner) return outer;
  if (!outer) return inner;
  const merged: TrackingState = { ...outer };
  for (const [key, value] of Object.entries(inner) as [keyof TrackingState, unknown][]) {
    if (value !== undefined && key !== "metadata") (merged as Record<string, unknown>)[key] = value;
  }
  if (inner.metadata !== undefined) merged.metadata = inner.metadata && outer.metadata ? { ...outer.metadata, ...inner.metadata } : inner.metadata;
  return merged;
}

/**
 * Runs `fn` with `context` applied to every tracked call made inside it, across `await`s,
 * timers and nested calls (a nested withTracking layers its context over this one). Calls
 * made concurrently in other scopes never see it. Returns what `fn` returns.
 */
export function withTracking<T>(context: TrackingContext, fn: () => T): T {
  return storage.run(layerContext(storage.getStore(), context), fn);
}

/** The context of the current withTracking scope, or undefined outside one. */
export function currentTrackingContext(): TrackingContext | undefined {
  return storage.getStore();
}

/**
 * The nodeName and state a call is recorded with: the call's own (callAndTrack's options)
 * over the withTracking scope over the defaults (trackOpenAI's, trackGemini's, the middleware's).
 */
export function resolveTracking(defaults: TrackingContext | undefined, own?: TrackingContext): TrackingContext {
  const scoped = layerContext(defaults, storage.getStore());
  return own && (own.nodeName !== undefined || own.state !== undefined) ? layerContext(scoped, own) : scoped;
}
