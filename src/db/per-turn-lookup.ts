import DataLoader from "dataloader";
import { pgErrorCode } from "./errors";

/** SQLSTATE class 22: PostgreSQL refused a value (bad text, a number out of range). */
const isDataException = (error: unknown) => pgErrorCode(error)?.startsWith("22") === true;

/**
 * Lookups made during one event-loop turn, answered by one query for all of them. Nothing is
 * remembered between turns (cache: false): each request sees the row as of its own turn.
 * Should PostgreSQL refuse one of the keys, the others must not fail with it: the keys are
 * then read one by one, and only the refused one's request fails.
 */
export function perTurnLookup<K, Row>(read: (keys: K[]) => Promise<Row[]>, keyOf: (row: Row) => K) {
  const readMany = async (keys: readonly K[]) => {
    const byKey = new Map((await read([...keys])).map((row) => [keyOf(row), row]));
    return keys.map((key) => byKey.get(key));
  };
  return new DataLoader<K, Row | undefined>(
    async (keys) => {
      try {
        return await readMany(keys);
      } catch (error) {
        if (keys.length === 1 || !isDataException(error)) throw error;
        // One at a time: a batch holds up to 500 keys, the pool far fewer connections.
        const answers: (Row | undefined | Error)[] = [];
        for (const key of keys) {
          answers.push(
            await readMany([key]).then(
              ([row]) => row,
              (failure: Error) => failure,
            ),
          );
        }
        return answers;
      }
    },
    { cache: false, batchScheduleFn: (flush) => setImmediate(flush), maxBatchSize: 500 },
  );
}
