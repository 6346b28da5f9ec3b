/**
 * Typed wrapper around `acquireVsCodeApi()` for Few-Shot Lab webviews.
 * `In` = host → webview messages, `Out` = webview → host messages, `S` = persisted state.
 */
export interface WebviewApi<Out, S> {
  post(message: Out): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare function acquireVsCodeApi(): { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void };

let cached: ReturnType<typeof acquireVsCodeApi> | undefined;

export function getWebviewApi<Out, S>(): WebviewApi<Out, S> {
  // acquireVsCodeApi may only be called once per webview.
  cached ??= acquireVsCodeApi();
  const api = cached;
  return {
    post: (m) => api.postMessage(m),
    getState: () => api.getState() as S | undefined,
    setState: (s) => api.setState(s),
  };
}

/** Subscribe to typed messages from the host. Returns an unsubscribe function. */
export function onHostMessage<In extends { type: string }>(handler: (m: In) => void): () => void {
  const listener = (e: MessageEvent) => {
    const m = e.data as In;
    if (m && typeof m === 'object' && typeof m.type === 'string') handler(m);
  };
  window.addEventListener('message', listener);
  return () => window.removeEventListener('message', listener);
}
