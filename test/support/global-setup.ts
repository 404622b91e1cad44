// Fails fast with a clear message when the services the suite needs are down.
import { Redis } from "ioredis";
import postgres from "postgres";
import { ADMIN_DATABASE_URL, TEST_REDIS_URL } from "./services.js";

export default async function setup(): Promise<void> {
  const sql = postgres(ADMIN_DATABASE_URL, { max: 1, connect_timeout: 5, onnotice: () => {}, fetch_types: false });
  try {
    await sql`select 1`;
  } catch (error) {
    throw new Error(`The tests need Postgres at ${new URL(ADMIN_DATABASE_URL).host} (start it; see .ci/run): ${String(error)}`);
  } finally {
    await sql.end();
  }
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`The tests need Redis at ${TEST_REDIS_URL} (start it; see .ci/run): ${String(error)}`);
  } finally {
    redis.disconnect();
  }
}
