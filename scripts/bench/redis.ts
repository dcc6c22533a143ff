import Redis from "ioredis";
import { type RedisClient, scanKeys } from "../../src/infra/redis";

export function connectRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: false });
}

const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);

/**
 * Deletes every key starting with `prefix` (SCAN + DEL, never KEYS; on a cluster on each
 * primary, one DEL per key since a batch spans slots); answers how many.
 */
export async function deleteKeysWithPrefix(redis: RedisClient, prefix: string): Promise<number> {
  if (prefix === "") throw new Error("refusing to delete every key of the Redis database");
  let deleted = 0;
  for await (const { server, keys } of scanKeys(redis, `${escapeGlob(prefix)}*`)) {
    const pipeline = server.pipeline();
    for (const key of keys) pipeline.del(key);
    for (const [error, count] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      deleted += count as number;
    }
  }
  return deleted;
}
