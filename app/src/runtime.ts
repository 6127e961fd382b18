// The composition root: the one place that picks the adapters, once, from the settings. Commands
// get a Runtime and ask it for the store; none of them knows which store it is.
import type { Settings } from './config/config.js';
import { ConfigError } from './config/config.js';
import { ElasticsearchProvider } from './store/elasticsearch/store.js';
import { LocalStoreProvider } from './store/local/provider.js';
import type { StoreProvider } from './store/port.js';

export type StoreKind = 'elasticsearch' | 'local';

export interface Runtime {
  readonly store: StoreProvider;
}

/** STORE, or when it is empty, as before STORE existed: Elasticsearch when it is configured. */
export function storeKindOf(settings: Pick<Settings, 'store' | 'elasticsearch'>): StoreKind {
  const configured = settings.elasticsearch.url !== '' || settings.elasticsearch.cloudId !== '';
  if (settings.store.kind === '') return configured ? 'elasticsearch' : 'local';
  if (settings.store.kind === 'elasticsearch' && !configured) {
    throw new ConfigError('STORE=elasticsearch, but ELASTICSEARCH_URL (or ELASTICSEARCH_CLOUD_ID) is not set. Fix: set ELASTICSEARCH_URL, or STORE=local for the embedded local store.');
  }
  return settings.store.kind;
}

export function buildRuntime(settings: Settings): Runtime {
  const kind = storeKindOf(settings);
  return { store: kind === 'elasticsearch' ? new ElasticsearchProvider(settings) : new LocalStoreProvider(settings) };
}
