/** Opens the gateway's store (JsonStore, gateway/store/store.ts) in `dataDir`. */
import { JsonStore } from '../store/store.js';
import type { Store } from '../store/types.js';

export async function openStore(dataDir: string, clockTrusted?: () => boolean): Promise<Store> {
  const store = new JsonStore({
    dataDir,
    ...(clockTrusted ? { clockTrusted } : {}),
    log: {
      info: (m) => console.log(`[store] ${m}`),
      warn: (m) => console.warn(`[store] warning: ${m}`),
      error: (m) => console.error(`[store] error: ${m}`),
    },
  });
  await store.open();
  return store;
}
