import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadConfig } from "../src/config";

const ROOT = join(import.meta.dir, "..");

/** The Dockerfile's last stage: what the image runs. */
async function runtimeStage(): Promise<string> {
  const dockerfile = await Bun.file(join(ROOT, "Dockerfile")).text();
  const stages = dockerfile.split(/^FROM\s/m);
  return stages[stages.length - 1] ?? "";
}

// No Docker daemon runs here, so the image is read rather than run.
describe("the Docker image", () => {
  test("its non-root user owns the directory embedded mode writes its database to", async () => {
    const stage = await runtimeStage();
    const user = stage.match(/^USER\s+(\S+)/m)?.[1];
    expect(user).toBeDefined();
    const workdir = stage.match(/^WORKDIR\s+(\S+)/m)?.[1];
    expect(workdir).toBe("/app");
    // The default data directory, relative to the working directory, and its top folder.
    const dataDir = loadConfig({}).DATA_DIR;
    const topFolder = dataDir.replace(/^\.\//, "").split("/")[0];
    const beforeUser = stage.slice(0, stage.search(/^USER\s/m));
    const chowned = [...beforeUser.matchAll(/chown\s+(?:-R\s+)?(\S+)\s+(\S+)/g)].map(
      ([, owner, path]) => ({ owner: owner?.split(":")[0], path: path?.replace(/^\/app\//, "") }),
    );
    expect(chowned).toContainEqual({ owner: user, path: topFolder });
  });
});
