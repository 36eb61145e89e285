import postgres from 'postgres';

/** The run's own database on the PostgreSQL server, and a small connection pool the checker uses. */
export interface ChaosDatabase {
  /** Connection string the API processes get as `DATABASE_URL`. */
  readonly url: string;
  readonly name: string;
  readonly sql: postgres.Sql;
  /** Terminates every backend of the run's database except the orchestrator's own; returns how many. */
  terminateBackends(): Promise<number>;
  /** Closes the pool and drops the database (forcibly: killed servers may leave sessions behind). */
  drop(): Promise<void>;
}

const APPLICATION_NAME = 'sluice-chaos';

/** Whether a PostgreSQL server answers at `adminUrl` within a few seconds. */
export async function postgresAnswers(adminUrl: string): Promise<boolean> {
  const admin = postgres(adminUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await admin`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await admin.end({ timeout: 1 });
  }
}

/** Creates `sluice_chaos_<pid>_<time>` on the server of `adminUrl`. */
export async function createChaosDatabase(adminUrl: string): Promise<ChaosDatabase> {
  const name = `sluice_chaos_${process.pid}_${Date.now()}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), {
    max: 3,
    onnotice: () => {},
    connection: { application_name: APPLICATION_NAME },
  });
  return {
    url: url.toString(),
    name,
    sql,
    terminateBackends: async () => {
      const rows = await sql<{ pid: number }[]>`
        select pg_terminate_backend(pid) as terminated, pid from pg_stat_activity
        where datname = ${name} and pid <> pg_backend_pid() and application_name <> ${APPLICATION_NAME}`;
      return rows.length;
    },
    drop: async () => {
      await sql.end({ timeout: 5 });
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    },
  };
}
