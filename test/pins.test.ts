import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import packageJson from "../package.json";

const ROOT = join(import.meta.dir, "..");
const EXACT_VERSION = /^\d+\.\d+\.\d+$/;

describe("pinned versions", () => {
  const dependencies: Record<string, string> = {
    ...packageJson.dependencies,
    ...packageJson.devDependencies,
  };

  test("a patched package is pinned to the version its patch was made for", () => {
    const patched = Object.entries(packageJson.patchedDependencies);
    expect(patched.length).toBeGreaterThan(0);
    for (const [key, patchFile] of patched) {
      const at = key.lastIndexOf("@");
      const [name, version] = [key.slice(0, at), key.slice(at + 1)];
      expect({ name, spec: dependencies[name] }).toEqual({ name, spec: version });
      expect(existsSync(join(ROOT, patchFile))).toBe(true);
    }
  });

  test("Swagger UI's assets are the exact version in package.json", () => {
    expect(packageJson.dependencies["swagger-ui-dist"]).toMatch(EXACT_VERSION);
  });

  test("the Docker image is built and run on the Bun version the tests run on", async () => {
    const dockerfile = await Bun.file(join(ROOT, "Dockerfile")).text();
    const images = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      expect(image).toMatch(new RegExp(`^oven/bun:${Bun.version.replaceAll(".", "\\.")}(-slim)?$`));
    }
  });
});
