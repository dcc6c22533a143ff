import { unlink } from "node:fs/promises";
import { type ClosedLoopResult, closedLoop, STANDARD_LOAD } from "../closed-loop";
import { HttpClient } from "../http";
import { startReferenceServer } from "../reference-servers";
import { percentOf } from "../stats";
import { type ScenarioContext, scaledMs } from "./context";

/**
 * S3: GET /shows/:id/seats of a 5,000-seat show from 100 connections for 15 s; then the same
 * with If-None-Match (when the server sends an ETag); then the same bytes served statically by
 * a tiny Bun server, to show what the seat map costs above sending bytes.
 */

export interface SeatMapResult {
  show_id: number;
  body_bytes: number;
  etag: string | null;
  content_encoding: string | null;
  plain: ClosedLoopResult;
  /** null when the server sends no ETag. */
  conditional: (ClosedLoopResult & { not_modified_percent: number }) | null;
  static_copy: ClosedLoopResult;
}

export async function seatMap(context: ScenarioContext): Promise<SeatMapResult> {
  const { http } = context;
  const showId = await context.fixture.createShow("S3 seat map");
  const path = `/api/v1/shows/${showId}/seats`;
  const first = await fetch(`${http.baseUrls[0]}${path}`, { signal: AbortSignal.timeout(30_000) });
  const body = new Uint8Array(await first.arrayBuffer());
  if (first.status !== 200) throw new Error(`GET ${path} → ${first.status}`);
  const etag = first.headers.get("ETag");
  const load = {
    path,
    connections: STANDARD_LOAD.connections,
    durationMs: scaledMs(context, STANDARD_LOAD.durationMs),
  };

  const plain = await closedLoop(http, load);
  let conditional: SeatMapResult["conditional"] = null;
  if (etag) {
    const result = await closedLoop(http, { ...load, headers: { "If-None-Match": etag } });
    conditional = {
      ...result,
      not_modified_percent: percentOf(result.statuses["304"] ?? 0, result.requests),
    };
  }

  const copy = `${context.workDir}/seat-map-${showId}.json`;
  await Bun.write(copy, body);
  const server = await startReferenceServer(
    "static",
    { BENCH_STATIC_FILE: copy },
    context.workDir,
    context.cleanup,
  );
  try {
    const staticCopy = await closedLoop(new HttpClient([server.baseUrl]), load);
    return {
      show_id: showId,
      body_bytes: body.byteLength,
      etag,
      content_encoding: first.headers.get("Content-Encoding"),
      plain,
      conditional,
      static_copy: staticCopy,
    };
  } finally {
    await server.stop();
    await unlink(copy);
  }
}
