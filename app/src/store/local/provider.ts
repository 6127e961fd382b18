// The local store as the chunk-store port's provider: LOCAL_STORE_PATH, opened for one process.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Settings } from '../../config/config.js';
import { describeConfiguredModel, modelRecordOf, type ModelRecord } from '../model-record.js';
import type { ChunkSearcher, StoreCheck, StoreProvider } from '../port.js';
import { LocalStore } from './local-store.js';

export class LocalStoreProvider implements StoreProvider {
  /** Saved whole by the one process that has it open: never shared by workers. */
  readonly shared = false;
  readonly description: string;
  private readonly folder: string;

  constructor(private readonly settings: Settings) {
    this.folder = path.resolve(settings.localStore.path);
    this.description = `local store ${this.folder}`;
  }

  async openForWriting(model: ModelRecord): Promise<LocalStore> {
    return this.withAccessRule(await LocalStore.open(this.folder, model));
  }

  /**
   * A store saved before it recorded its model: the model it names, described as these settings
   * would describe it (the same model under its other name included).
   */
  async openForReading(): Promise<ChunkSearcher> {
    return this.withAccessRule(await LocalStore.openExisting(this.folder, (model, dims) => modelRecordOf(describeConfiguredModel({ ...this.settings.embedding, model }), dims)));
  }

  /** Fail-closed: with ACL_METADATA_KEY set, searches say for whom they read (store/filters.ts's Reader). */
  private withAccessRule(store: LocalStore): LocalStore {
    store.accessRequired = this.settings.metadata.aclKey !== '';
    return store;
  }

  ping(): Promise<boolean> {
    return Promise.resolve(true);
  }

  async checks(): Promise<StoreCheck[]> {
    const exists = await stat(this.folder).then(
      () => true,
      () => false,
    );
    return [
      {
        name: 'store',
        status: 'skip',
        detail: `${this.description} (${exists ? 'exists' : 'made by the first `keda-indexer index`'}): the CLI's; the worker needs Elasticsearch (ELASTICSEARCH_URL)`,
      },
    ];
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
