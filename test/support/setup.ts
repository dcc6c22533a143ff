import { setDefaultTimeout } from "bun:test";

// Suites start PGlite or PostgreSQL databases and real processes on a shared 2-core machine:
// the 5-second default is too tight for setup. Hangs still fail, just later.
setDefaultTimeout(60_000);
