// Data a section asked the host for: what it last got (kept while refreshing or after a failure), and how it stands.

export interface Loadable<T> {
  data?: T;
  state: 'loading' | 'loaded' | 'failed';
  error?: string;
}

export function loading<T>(data?: T): Loadable<T> {
  return data === undefined ? { state: 'loading' } : { state: 'loading', data };
}

export function loaded<T>(data: T): Loadable<T> {
  return { state: 'loaded', data };
}

export function failed<T>(error: string, data?: T): Loadable<T> {
  return data === undefined ? { state: 'failed', error } : { state: 'failed', error, data };
}
