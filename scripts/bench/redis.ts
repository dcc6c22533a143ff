import {
  connectRedis,
  type RedisClient,
  type RedisTarget,
  scanKeys,
  waitForRedis,
} from "../../src/infra/redis";

/**
 * A client of the bench's own (cleanup, the oversell check), connected: the app's clients
 * refuse commands before they are (no offline queue), and a cluster knows its primaries only then.
 */
export async function openRedis(target: RedisTarget): Promise<RedisClient> {
  const redis = connectRedis({ ...target, commandTimeoutMs: 10_000 });
  try {
    await waitForRedis(redis, 10_000);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return redis;
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
