// Cleanup of what keda-indexer makes for one ELASTICSEARCH_INDEX: the alias, the physical indices
// `<name>-v<N>-<model>` behind it and a concrete index `name` (made before aliases), each with its
// `-files` records. Deleting by the alias name fails ("matches an alias, specify the corresponding
// concrete indices") and wildcard deletes are refused by default (action.destructive_requires_name),
// so the concrete names are listed first.
import type { Client } from '@elastic/elasticsearch';
import { recordsIndexOf } from '../../app/src/store/elasticsearch/file-records.js';

/** Every concrete index keda-indexer made for ELASTICSEARCH_INDEX `name`, records included. */
export async function indicesOf(client: Client, name: string): Promise<string[]> {
  const found = await client.indices.get({ index: [name, `${name}-*`], expand_wildcards: 'open', allow_no_indices: true, ignore_unavailable: true });
  // `get` on an alias answers with the indices behind it: those are the alias's too.
  return Object.keys(found).filter((index) => index === name || index.startsWith(`${name}-`) || found[index]?.aliases?.[name] !== undefined);
}

export async function deleteIndexFamily(client: Client, names: string | readonly string[]): Promise<void> {
  const all = new Set<string>();
  for (const name of typeof names === 'string' ? [names] : names) {
    for (const index of await indicesOf(client, name)) {
      all.add(index);
      all.add(recordsIndexOf(index));
    }
    all.add(recordsIndexOf(name));
  }
  if (all.size > 0) await client.indices.delete({ index: [...all], ignore_unavailable: true });
}
